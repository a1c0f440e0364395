package main

import (
	"strings"
	"testing"
	"time"
)

const testSecret = "secret-secret-secret-secret-32b"

func tok(t *testing.T, c Claims, secret string) string {
	t.Helper()
	s, err := signToken(&c, secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func baseClaims(now time.Time) Claims {
	return Claims{Issuer: "devkey", Subject: "rec", NotBef: now.Unix() - 5, Expiry: now.Add(time.Hour).Unix(),
		Kind: "egress", Video: &VideoGrant{RoomJoin: true, Room: "demo", Hidden: true, Recorder: true}}
}

func TestVerifyGood(t *testing.T) {
	now := time.Now()
	c, err := verifyToken(tok(t, baseClaims(now), testSecret), "devkey", testSecret, now)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "rec" || !c.Video.Hidden || c.Kind != "egress" {
		t.Fatalf("claims %+v", c)
	}
	if code, err := checkJoin(c, "demo"); err != nil || code != 200 {
		t.Fatalf("checkJoin %d %v", code, err)
	}
	if code, err := checkJoin(c, "other"); err == nil || code != 404 {
		t.Fatalf("room mismatch: %d %v", code, err)
	}
}

func TestVerifyExpired(t *testing.T) {
	now := time.Now()
	c := baseClaims(now)
	c.Expiry = now.Add(-2 * time.Minute).Unix()
	_, err := verifyToken(tok(t, c, testSecret), "devkey", testSecret, now)
	if err == nil || !strings.Contains(err.Error(), "token is expired") ||
		!strings.HasPrefix(err.Error(), "invalid authorization token") {
		t.Fatalf("got %v", err)
	}
	// inside the 60 s leeway: accepted like go-jose does
	c.Expiry = now.Add(-30 * time.Second).Unix()
	if _, err := verifyToken(tok(t, c, testSecret), "devkey", testSecret, now); err != nil {
		t.Fatalf("leeway: %v", err)
	}
}

func TestVerifyNotYetValid(t *testing.T) {
	now := time.Now()
	c := baseClaims(now)
	c.NotBef = now.Add(5 * time.Minute).Unix()
	if _, err := verifyToken(tok(t, c, testSecret), "devkey", testSecret, now); err == nil ||
		!strings.Contains(err.Error(), "nbf") {
		t.Fatalf("got %v", err)
	}
}

func TestVerifyBadSignature(t *testing.T) {
	now := time.Now()
	_, err := verifyToken(tok(t, baseClaims(now), "another-secret-another-secret-32"), "devkey", testSecret, now)
	if err == nil || !strings.Contains(err.Error(), "cryptographic primitive") {
		t.Fatalf("got %v", err)
	}
	s := tok(t, baseClaims(now), testSecret)
	if _, err := verifyToken(s[:len(s)-4]+"AAAA", "devkey", testSecret, now); err == nil {
		t.Fatal("tampered signature accepted")
	}
}

func TestVerifyWrongKey(t *testing.T) {
	now := time.Now()
	c := baseClaims(now)
	c.Issuer = "otherkey"
	if _, err := verifyToken(tok(t, c, testSecret), "devkey", testSecret, now); err != errInvalidAPIKey {
		t.Fatalf("got %v", err)
	}
}

func TestVerifyGarbage(t *testing.T) {
	for _, s := range []string{"", "a.b", "a.b.c", "..", "eyJhbGciOiJub25lIn0.e30."} {
		if _, err := verifyToken(s, "devkey", testSecret, time.Now()); err == nil {
			t.Fatalf("%q accepted", s)
		}
	}
}

func TestJoinGrant(t *testing.T) {
	now := time.Now()
	c := baseClaims(now)
	c.Video.RoomJoin = false
	if code, err := checkJoin(&c, "demo"); code != 401 || err != errPermissionDenied {
		t.Fatalf("%d %v", code, err)
	}
	c = baseClaims(now)
	c.Subject = ""
	if code, _ := checkJoin(&c, "demo"); code != 400 {
		t.Fatalf("empty identity: %d", code)
	}
}

func TestRefreshToken(t *testing.T) {
	now := time.Now()
	c := baseClaims(now)
	s, err := refreshedToken(&c, testSecret, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	n, err := verifyToken(s, "devkey", testSecret, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if n.Expiry <= c.Expiry || n.Video.Room != "demo" || !n.Video.Hidden {
		t.Fatalf("refreshed %+v", n)
	}
}
