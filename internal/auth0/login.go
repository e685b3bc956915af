package auth0

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// CallbackPorts are the loopback ports the tenant must allow as callback
// URLs (http://127.0.0.1:PORT/callback); login uses the first free one.
var CallbackPorts = []int{18484, 18485, 18486, 18487, 18488, 18489}

// Session is the result of a login.
type Session struct {
	// RefreshToken is kept in the keychain; it lets AgentVault use Token Vault.
	RefreshToken string
	// Subject is the user's Auth0 id, the CIBA login hint.
	Subject string
}

// Login signs the user in through the system browser: authorization code
// with PKCE (S256), a loopback redirect that serves exactly one callback and
// checks state, and a code exchange with the client secret. open shows the
// URL to the user (opens the browser).
func (c *Client) Login(ctx context.Context, ports []int, open func(url string) error) (Session, error) {
	e, err := c.Endpoints(ctx)
	if err != nil {
		return Session{}, err
	}
	ln, port, err := listenFirst(ports)
	if err != nil {
		return Session{}, err
	}
	defer ln.Close()
	conf := oauth2.Config{
		ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: e.Authorization, TokenURL: e.Token, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: "http://127.0.0.1:" + strconv.Itoa(port) + "/callback",
		Scopes:      []string{"openid", "profile", "email", "offline_access"},
	}
	state := randomString()
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	code, err := awaitCallback(ctx, ln, state, func() error { return open(authURL) })
	if err != nil {
		return Session{}, err
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.cfg.HTTP)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Session{}, fmt.Errorf("exchanging the login code: %w", err)
	}
	if tok.RefreshToken == "" {
		return Session{}, errors.New("Auth0 returned no refresh token: allow offline access for the application")
	}
	idToken, _ := tok.Extra("id_token").(string)
	sub, err := subject(idToken)
	if err != nil {
		return Session{}, err
	}
	return Session{RefreshToken: tok.RefreshToken, Subject: sub}, nil
}

func listenFirst(ports []int) (net.Listener, int, error) {
	for _, p := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			return ln, ln.Addr().(*net.TCPAddr).Port, nil
		}
	}
	return nil, 0, fmt.Errorf("none of the login callback ports %v is free", ports)
}

// awaitCallback serves one /callback on ln and returns its code.
func awaitCallback(ctx context.Context, ln net.Listener, state string, start func() error) (string, error) {
	type result struct {
		code string
		err  error
	}
	done := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		var res result
		switch {
		case q.Get("state") != state:
			res.err = errors.New("the login callback's state does not match: try again")
		case q.Get("error") != "":
			res.err = fmt.Errorf("Auth0 refused the login: %s %s", q.Get("error"), q.Get("error_description"))
		case q.Get("code") == "":
			res.err = errors.New("the login callback has no code")
		default:
			res.code = q.Get("code")
		}
		msg := "You are signed in to AgentVault. You can close this tab."
		if res.err != nil {
			msg = res.err.Error()
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, "<!doctype html><title>AgentVault</title><p>%s</p>", html.EscapeString(msg))
		select {
		case done <- res:
		default:
		}
	})}
	go srv.Serve(ln)
	defer func() {
		// Let the callback page finish before closing: the browser shows it.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if err := start(); err != nil {
		return "", err
	}
	select {
	case r := <-done:
		return r.code, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func randomString() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func decodeSegment(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }
