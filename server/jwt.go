package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Subscriber tokens are compact JWS (RFC 7515) JWTs (RFC 7519) signed with
// HMAC-SHA256, verified here with the standard library only: the header
// must say alg HS256 (typ optional, JWT if present, no crit), the
// signature is compared in constant time against every configured secret,
// and only then are the claims read.

// maxTokenLen bounds a token before any work is done on it.
const maxTokenLen = 4096

// maxNumericDate is 9999-12-31T23:59:59Z: exp and nbf beyond it are refused.
const maxNumericDate = 253402300799

// AllTopics in a token's topics claim allows every topic.
const AllTopics = "*"

// Claims are what a subscriber token grants.
type Claims struct {
	// Subject (sub) is the client id the token is for. Required.
	Subject string
	// Topics the client may subscribe to. Absent or empty: none (the
	// client still gets its own and broadcast events); ["*"]: any.
	Topics []string
	// Expiry (exp) is required: a stream ends when its token expires.
	Expiry time.Time
	// NotBefore (nbf) is optional; the zero time means none.
	NotBefore time.Time
}

// allows reports whether the claims allow subscribing to topic.
func (c Claims) allows(topic string) bool {
	for _, t := range c.Topics {
		if t == topic || t == AllTopics {
			return true
		}
	}
	return false
}

var b64 = base64.RawURLEncoding.Strict()

// MintToken signs c as an HS256 JWT with secret (at least 32 bytes), for
// back ends written in Go, tools and tests. Any JWT library that signs
// HS256 makes tokens the hub accepts.
func MintToken(secret Secret, c Claims) (string, error) {
	if len(secret) < minSecretLen {
		return "", fmt.Errorf("%w: the secret must be at least %d bytes", errOption, minSecretLen)
	}
	if !validName(c.Subject) {
		return "", ErrBadClientID
	}
	if c.Expiry.IsZero() {
		return "", fmt.Errorf("%w: a token needs an expiry", errOption)
	}
	claims := map[string]any{"sub": c.Subject, "exp": numericDate(c.Expiry)}
	if len(c.Topics) > 0 {
		claims["topics"] = c.Topics
	}
	if !c.NotBefore.IsZero() {
		claims["nbf"] = numericDate(c.NotBefore)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signing := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + b64.EncodeToString(payload)
	return signing + "." + b64.EncodeToString(sign([]byte(secret), signing)), nil
}

// numericDate is t in seconds since the epoch: whole seconds when t has
// none, else with millisecond precision.
func numericDate(t time.Time) json.Number {
	if t.Nanosecond() == 0 {
		return json.Number(fmt.Sprint(t.Unix()))
	}
	return json.Number(fmt.Sprintf("%.3f", float64(t.UnixMilli())/1000))
}

func sign(key []byte, signing string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signing))
	return m.Sum(nil)
}

// verifier checks subscriber tokens against one or more secrets.
type verifier struct {
	keys   [][]byte
	leeway time.Duration
}

// verify returns the claims of a valid token, or an error wrapping
// ErrUnauthorized that says why (never with the token in it).
func (v *verifier) verify(token string, now time.Time) (Claims, error) {
	if token == "" {
		return Claims{}, errNoCredentials
	}
	if len(token) > maxTokenLen {
		return Claims{}, malformed("longer than %d bytes", maxTokenLen)
	}
	header, rest, ok1 := strings.Cut(token, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.Contains(sig, ".") {
		return Claims{}, malformed("not three dot-separated parts")
	}
	if err := checkHeader(header); err != nil {
		return Claims{}, err
	}
	mac, err := b64.DecodeString(sig)
	if err != nil || len(mac) != sha256.Size {
		return Claims{}, malformed("signature is not 32 bytes of base64url")
	}
	want := header + "." + payload
	good := 0
	for _, k := range v.keys {
		if hmac.Equal(mac, sign(k, want)) {
			good = 1
		}
	}
	if good == 0 {
		return Claims{}, fmt.Errorf("%w: bad signature", ErrUnauthorized)
	}
	c, err := parseClaims(payload)
	if err != nil {
		return Claims{}, err
	}
	if !now.Before(c.Expiry.Add(v.leeway)) {
		return Claims{}, fmt.Errorf("%w: token expired", ErrUnauthorized)
	}
	if !c.NotBefore.IsZero() && now.Add(v.leeway).Before(c.NotBefore) {
		return Claims{}, fmt.Errorf("%w: token not valid yet (nbf)", ErrUnauthorized)
	}
	return c, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: malformed token: "+format, append([]any{ErrUnauthorized}, args...)...)
}

// checkHeader insists on {"alg":"HS256"} with an optional typ JWT and no
// crit: alg none, RS256 (with an HMAC key: the classic confusion) and
// everything else are refused before the signature is looked at.
func checkHeader(seg string) error {
	fields, err := decodeObject(seg)
	if err != nil {
		return malformed("header: %v", err)
	}
	var alg string
	if raw, ok := fields["alg"]; !ok || json.Unmarshal(raw, &alg) != nil {
		return malformed("header has no alg string")
	}
	switch {
	case strings.EqualFold(alg, "none"):
		return fmt.Errorf("%w: alg none is refused", ErrUnauthorized)
	case alg != "HS256":
		return fmt.Errorf("%w: alg must be HS256", ErrUnauthorized)
	}
	if raw, ok := fields["typ"]; ok {
		var typ string
		if json.Unmarshal(raw, &typ) != nil || !strings.EqualFold(typ, "JWT") {
			return malformed("typ must be JWT")
		}
	}
	if _, ok := fields["crit"]; ok {
		return malformed("crit extensions are not supported")
	}
	return nil
}

// parseClaims reads sub (a valid client id), topics (client ids' alphabet
// or "*"), exp (required) and nbf. Other claims are ignored.
func parseClaims(seg string) (Claims, error) {
	fields, err := decodeObject(seg)
	if err != nil {
		return Claims{}, malformed("claims: %v", err)
	}
	var c Claims
	if raw, ok := fields["sub"]; !ok || json.Unmarshal(raw, &c.Subject) != nil || raw[0] != '"' {
		return Claims{}, malformed("sub must be a string")
	}
	if !validName(c.Subject) {
		return Claims{}, malformed("sub is not a valid client id")
	}
	if raw, ok := fields["topics"]; ok {
		if raw[0] != '[' || json.Unmarshal(raw, &c.Topics) != nil {
			return Claims{}, malformed("topics must be an array of strings")
		}
		for _, t := range c.Topics {
			if t != AllTopics && !validName(t) {
				return Claims{}, malformed("topics holds an invalid topic")
			}
		}
	}
	raw, ok := fields["exp"]
	if !ok {
		return Claims{}, malformed("exp is required")
	}
	if c.Expiry, err = parseNumericDate(raw); err != nil {
		return Claims{}, malformed("exp: %v", err)
	}
	if raw, ok := fields["nbf"]; ok {
		if c.NotBefore, err = parseNumericDate(raw); err != nil {
			return Claims{}, malformed("nbf: %v", err)
		}
	}
	return c, nil
}

func parseNumericDate(raw json.RawMessage) (time.Time, error) {
	var f float64
	if raw[0] == '"' || string(raw) == "null" || json.Unmarshal(raw, &f) != nil {
		return time.Time{}, errors.New("not a number")
	}
	if f < 0 || f > maxNumericDate || math.IsNaN(f) {
		return time.Time{}, errors.New("out of range")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6), nil
}

// decodeObject decodes a base64url segment holding one JSON object, with
// no repeated member (RFC 7515 lets a parser refuse them; two different
// readings of one token are how confusion attacks start).
func decodeObject(seg string) (map[string]json.RawMessage, error) {
	data, err := b64.DecodeString(seg)
	if err != nil {
		return nil, errors.New("not base64url")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	fields := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errors.New("not a JSON object")
		}
		name := tok.(string) // object keys are always strings
		if _, dup := fields[name]; dup {
			return nil, fmt.Errorf("member %q appears twice", name)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errors.New("not a JSON object")
		}
		fields[name] = raw
	}
	if _, err := dec.Token(); err != nil {
		return nil, errors.New("not a JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after the JSON object")
	}
	return fields, nil
}
