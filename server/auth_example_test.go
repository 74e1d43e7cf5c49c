package server_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
	"github.com/ssekit/ssekit/server"
)

// With WithAuthSecrets a stream needs a token for its client id, and with
// WithPublishKeys a publish needs the key. Secrets come from the
// environment in real code; they are at least 32 bytes.
func ExampleMintToken() {
	secret := server.Secret("an-hmac-secret-of-at-least-32-bytes!")
	key := server.Secret("a-publish-key-of-at-least-32-bytes!!")
	hub, err := server.New(server.WithAuthSecrets(secret), server.WithPublishKeys(key))
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(hub.Handler())
	defer srv.Close()
	defer hub.Close()

	// What the application's back end hands a logged-in user.
	token, err := server.MintToken(secret, server.Claims{
		Subject: "alice",
		Topics:  []string{"orders"},
		Expiry:  time.Now().Add(time.Hour),
	})
	if err != nil {
		log.Fatal(err)
	}

	get := func(path, token string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		return resp
	}
	for _, path := range []string{"/api/sse/connect/alice", "/api/sse/connect/bob"} {
		resp := get(path, token)
		resp.Body.Close()
		fmt.Println(path, "with alice's token:", resp.StatusCode)
	}
	noToken := get("/api/sse/connect/alice", "")
	noToken.Body.Close()
	fmt.Println("without a token:", noToken.StatusCode)

	resp := get("/api/sse/connect?topics=orders", token) // no id: the token's sub
	defer resp.Body.Close()
	events := wire.NewParser(resp.Body)
	connected, _ := events.Next()
	fmt.Println(connected.Data)

	publish := func(key string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/sse/topics/orders?message=shipped", nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	fmt.Println("publish without the key:", publish(""), "with it:", publish(string(key)))
	ev, _ := events.Next()
	fmt.Println(ev.Data)
	// Output:
	// /api/sse/connect/alice with alice's token: 200
	// /api/sse/connect/bob with alice's token: 403
	// without a token: 401
	// {"clientId":"alice","retry":3000}
	// publish without the key: 401 with it: 202
	// shipped
}
