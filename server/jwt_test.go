package server

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Secrets of the tests: two accepted at once (rotation), one never.
const (
	secretOld   Secret = "old-secret-old-secret-old-secret-0123456789"
	secretNew   Secret = "new-secret-new-secret-new-secret-0123456789"
	secretOther Secret = "some-other-secret-that-the-hub-never-accepts"
)

// craft builds a token from raw header and claims JSON, signed with key
// (an empty key: an empty signature, as alg none sends).
func craft(key Secret, header, claims string) string {
	signing := b64.EncodeToString([]byte(header)) + "." + b64.EncodeToString([]byte(claims))
	if key == "" {
		return signing + "."
	}
	return signing + "." + b64.EncodeToString(sign([]byte(key), signing))
}

// mint signs claims for sub expiring at exp with the test's old secret.
func mint(t testing.TB, key Secret, sub string, exp time.Time, topics ...string) string {
	t.Helper()
	tok, err := MintToken(key, Claims{Subject: sub, Expiry: exp, Topics: topics})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestVerifier_verify(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	v := &verifier{keys: [][]byte{[]byte(secretOld), []byte(secretNew)}}
	hs := `{"alg":"HS256","typ":"JWT"}`
	exp := fmt.Sprint(now.Unix() + 60)
	claims := `{"sub":"alice","exp":` + exp + `}`
	good := craft(secretOld, hs, claims)
	parts := strings.Split(good, ".")
	stdB64 := base64.StdEncoding.EncodeToString

	cases := []struct {
		name   string
		token  string
		leeway time.Duration
		want   string // "" = valid; else a part of the error
	}{
		{"valid", good, 0, ""},
		{"valid, no typ", craft(secretOld, `{"alg":"HS256"}`, claims), 0, ""},
		{"valid, typ in lower case and a kid", craft(secretOld, `{"kid":"k1","typ":"jwt","alg":"HS256"}`, claims), 0, ""},
		{"valid, new secret (rotation)", craft(secretNew, hs, claims), 0, ""},
		{"valid, topics", craft(secretOld, hs, `{"sub":"alice","exp":`+exp+`,"topics":["news","*"]}`), 0, ""},
		{"valid, fractional exp", craft(secretOld, hs, `{"sub":"alice","exp":`+exp+`.25}`), 0, ""},
		{"valid, unknown claims ignored", craft(secretOld, hs, `{"sub":"alice","exp":`+exp+`,"iss":"x","aud":["y"]}`), 0, ""},
		{"empty", "", 0, "no credentials"},
		{"one part", "abc", 0, "three dot-separated parts"},
		{"two parts", parts[0] + "." + parts[1], 0, "three dot-separated parts"},
		{"four parts", good + ".x", 0, "three dot-separated parts"},
		{"too long", good + strings.Repeat("A", maxTokenLen), 0, "longer than"},
		{"header not base64url", "!!." + parts[1] + "." + parts[2], 0, "not base64url"},
		{"header padded", b64.EncodeToString([]byte(hs)) + "=." + parts[1] + "." + parts[2], 0, "not base64url"},
		{"header not JSON", craft(secretOld, `alg=HS256`, claims), 0, "not a JSON object"},
		{"header an array", craft(secretOld, `["HS256"]`, claims), 0, "not a JSON object"},
		{"header trailing data", craft(secretOld, hs+`{}`, claims), 0, "trailing data"},
		{"header alg twice", craft(secretOld, `{"alg":"none","alg":"HS256"}`, claims), 0, "appears twice"},
		{"no alg", craft(secretOld, `{"typ":"JWT"}`, claims), 0, "no alg"},
		{"alg not a string", craft(secretOld, `{"alg":256}`, claims), 0, "no alg"},
		{"alg none", craft("", `{"alg":"none","typ":"JWT"}`, claims), 0, "alg none"},
		{"alg None", craft("", `{"alg":"None"}`, claims), 0, "alg none"},
		{"alg none with a valid signature", craft(secretOld, `{"alg":"none"}`, claims), 0, "alg none"},
		{"alg hs256", craft(secretOld, `{"alg":"hs256"}`, claims), 0, "alg must be HS256"},
		{"alg HS512", craft(secretOld, `{"alg":"HS512"}`, claims), 0, "alg must be HS256"},
		{"alg RS256", craft(secretOld, `{"alg":"RS256"}`, claims), 0, "alg must be HS256"},
		{"typ JWS", craft(secretOld, `{"alg":"HS256","typ":"JWS"}`, claims), 0, "typ must be JWT"},
		{"crit", craft(secretOld, `{"alg":"HS256","crit":["exp"]}`, claims), 0, "crit"},
		{"wrong secret", craft(secretOther, hs, claims), 0, "bad signature"},
		{"tampered claims", parts[0] + "." + b64.EncodeToString([]byte(`{"sub":"bob","exp":`+exp+`}`)) + "." + parts[2], 0, "bad signature"},
		{"signature cut short", parts[0] + "." + parts[1] + "." + parts[2][:40], 0, "signature is not 32 bytes"},
		{"signature in padded standard base64", parts[0] + "." + parts[1] + "." + stdB64(sign([]byte(secretOld), parts[0]+"."+parts[1])), 0, "signature is not 32 bytes"},
		{"empty signature", parts[0] + "." + parts[1] + ".", 0, "signature is not 32 bytes"},
		{"claims not JSON", craft(secretOld, hs, `sub=alice`), 0, "not a JSON object"},
		{"claims sub twice", craft(secretOld, hs, `{"sub":"alice","sub":"bob","exp":`+exp+`}`), 0, "appears twice"},
		{"no sub", craft(secretOld, hs, `{"exp":`+exp+`}`), 0, "sub must be a string"},
		{"sub a number", craft(secretOld, hs, `{"sub":7,"exp":`+exp+`}`), 0, "sub must be a string"},
		{"sub not a client id", craft(secretOld, hs, `{"sub":"a b","exp":`+exp+`}`), 0, "not a valid client id"},
		{"topics a string", craft(secretOld, hs, `{"sub":"alice","exp":`+exp+`,"topics":"news"}`), 0, "topics must be an array"},
		{"topics with a bad topic", craft(secretOld, hs, `{"sub":"alice","exp":`+exp+`,"topics":["a b"]}`), 0, "invalid topic"},
		{"no exp", craft(secretOld, hs, `{"sub":"alice"}`), 0, "exp is required"},
		{"exp a string", craft(secretOld, hs, `{"sub":"alice","exp":"`+exp+`"}`), 0, "not a number"},
		{"exp null", craft(secretOld, hs, `{"sub":"alice","exp":null}`), 0, "not a number"},
		{"exp huge", craft(secretOld, hs, `{"sub":"alice","exp":1e300}`), 0, "out of range"},
		{"exp negative", craft(secretOld, hs, `{"sub":"alice","exp":-1}`), 0, "out of range"},
		{"expired", craft(secretOld, hs, fmt.Sprintf(`{"sub":"alice","exp":%d}`, now.Unix()-1)), 0, "expired"},
		{"expires now", craft(secretOld, hs, fmt.Sprintf(`{"sub":"alice","exp":%d}`, now.Unix())), 0, "expired"},
		{"expired within the leeway", craft(secretOld, hs, fmt.Sprintf(`{"sub":"alice","exp":%d}`, now.Unix()-4)), 5 * time.Second, ""},
		{"expired beyond the leeway", craft(secretOld, hs, fmt.Sprintf(`{"sub":"alice","exp":%d}`, now.Unix()-5)), 5 * time.Second, "expired"},
		{"not yet valid", craft(secretOld, hs, fmt.Sprintf(`{"sub":"alice","exp":%s,"nbf":%d}`, exp, now.Unix()+1)), 0, "not valid yet"},
		{"nbf now", craft(secretOld, hs, fmt.Sprintf(`{"sub":"alice","exp":%s,"nbf":%d}`, exp, now.Unix())), 0, ""},
		{"not yet valid within the leeway", craft(secretOld, hs, fmt.Sprintf(`{"sub":"alice","exp":%s,"nbf":%d}`, exp, now.Unix()+5)), 5 * time.Second, ""},
		{"nbf a string", craft(secretOld, hs, `{"sub":"alice","exp":`+exp+`,"nbf":"0"}`), 0, "nbf: not a number"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			vv := &verifier{keys: v.keys, leeway: c.leeway}
			got, err := vv.verify(c.token, now)
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got.Subject != "alice" || got.Expiry.IsZero() {
					t.Fatalf("claims %+v", got)
				}
				return
			}
			if !errors.Is(err, ErrUnauthorized) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err %v, want ErrUnauthorized mentioning %q", err, c.want)
			}
			if strings.Contains(err.Error(), c.token) && c.token != "" {
				t.Fatal("the error holds the token")
			}
		})
	}
}

func TestMintToken(t *testing.T) {
	t.Parallel()
	now := time.Now()
	exp := now.Add(time.Minute).Truncate(time.Millisecond)
	nbf := now.Add(-time.Second).Truncate(time.Second)
	tok, err := MintToken(secretNew, Claims{Subject: "carol", Topics: []string{"a", "b"}, Expiry: exp, NotBefore: nbf})
	if err != nil {
		t.Fatal(err)
	}
	v := &verifier{keys: [][]byte{[]byte(secretOld), []byte(secretNew)}}
	c, err := v.verify(tok, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "carol" || !slices.Equal(c.Topics, []string{"a", "b"}) || !c.Expiry.Equal(exp) || !c.NotBefore.Equal(nbf) {
		t.Fatalf("claims %+v, want carol [a b] %v %v", c, exp, nbf)
	}
	for _, bad := range []struct {
		name string
		key  Secret
		c    Claims
	}{
		{"short secret", "short", Claims{Subject: "x", Expiry: exp}},
		{"bad subject", secretNew, Claims{Subject: "a b", Expiry: exp}},
		{"no expiry", secretNew, Claims{Subject: "x"}},
	} {
		if _, err := MintToken(bad.key, bad.c); err == nil {
			t.Errorf("%s: minted", bad.name)
		}
	}
}

func TestClaims_allows(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		topics []string
		topic  string
		want   bool
	}{
		{nil, "news", false},
		{[]string{}, "news", false},
		{[]string{"news"}, "news", true},
		{[]string{"news"}, "sports", false},
		{[]string{"news", "*"}, "sports", true},
	} {
		if got := (Claims{Topics: c.topics}).allows(c.topic); got != c.want {
			t.Errorf("topics %v allows %q: %v, want %v", c.topics, c.topic, got, c.want)
		}
	}
}
