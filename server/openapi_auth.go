package server

// authKind says which credentials a route takes, for the OpenAPI document.
type authKind uint8

const (
	authNone             authKind = iota
	authSubscriber                // a subscriber token: bearer or session cookie (when -auth-secret is set)
	authSubscriberBearer          // a subscriber token as bearer only (the session exchange)
	authPublisher                 // the publish key (when -publish-key is set)
)

// requirement is the operation's OpenAPI security: one of the schemes, or
// nothing ({}) when the hub is run without that kind of auth.
func (k authKind) requirement() []any {
	none := map[string]any{}
	switch k {
	case authSubscriber:
		return []any{map[string]any{"subscriberToken": []string{}}, map[string]any{"sessionCookie": []string{}}, none}
	case authSubscriberBearer:
		return []any{map[string]any{"subscriberToken": []string{}}, none}
	case authPublisher:
		return []any{map[string]any{"publishKey": []string{}}, none}
	}
	return nil
}

var securitySchemes = map[string]any{
	"subscriberToken": map[string]any{
		"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
		"description": "An HS256 JWT signed with one of the -auth-secret secrets: sub = the client id, exp required, " +
			"nbf and topics optional (no topics claim: no topic; [\"*\"]: any). Never in the URL.",
	},
	"sessionCookie": map[string]any{
		"type": "apiKey", "in": "cookie", "name": SessionCookie,
		"description": "The subscriber token as set by POST /api/sse/session: HttpOnly, SameSite per -cookie-samesite, Secure under TLS.",
	},
	"publishKey": map[string]any{
		"type": "http", "scheme": "bearer",
		"description": "One of the -publish-key keys, compared in constant time.",
	},
}
