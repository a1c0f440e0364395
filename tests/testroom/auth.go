package main

// HS256 access tokens as LiveKit uses them: iss = API key, sub = identity, nbf/exp,
// name, kind, metadata and a "video" grant. Verification mirrors livekit-server's
// auth middleware (60 s leeway like go-jose's default) and its error texts.

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// VideoGrant is the "video" claim (LiveKit's camelCase JSON names).
type VideoGrant struct {
	RoomJoin       bool   `json:"roomJoin,omitempty"`
	Room           string `json:"room,omitempty"`
	RoomAdmin      bool   `json:"roomAdmin,omitempty"`
	RoomRecord     bool   `json:"roomRecord,omitempty"`
	CanSubscribe   *bool  `json:"canSubscribe,omitempty"`
	CanPublish     *bool  `json:"canPublish,omitempty"`
	CanPublishData *bool  `json:"canPublishData,omitempty"`
	Hidden         bool   `json:"hidden,omitempty"`
	Recorder       bool   `json:"recorder,omitempty"`
}

// Claims is the token payload.
type Claims struct {
	Issuer   string      `json:"iss,omitempty"`
	Subject  string      `json:"sub,omitempty"`
	Expiry   int64       `json:"exp,omitempty"`
	NotBef   int64       `json:"nbf,omitempty"`
	IssuedAt int64       `json:"iat,omitempty"`
	ID       string      `json:"jti,omitempty"`
	Name     string      `json:"name,omitempty"`
	Kind     string      `json:"kind,omitempty"`
	Metadata string      `json:"metadata,omitempty"`
	Video    *VideoGrant `json:"video,omitempty"`
}

// Errors and texts as livekit-server's auth middleware returns them.
var (
	errInvalidAuthToken  = errors.New("invalid authorization token")
	errInvalidAPIKey     = errors.New("invalid API key")
	errPermissionDenied  = errors.New("permissions denied")
	errIdentityEmpty     = errors.New("identity cannot be empty")
	errRoomNotFound      = errors.New("requested room does not exist")
	errMissingAuthHeader = errors.New("invalid authorization header. Must start with Bearer ")
)

const jwtLeeway = 60 * time.Second

var b64 = base64.RawURLEncoding

// signToken makes an HS256 JWT from claims.
func signToken(c *Claims, secret string) (string, error) {
	hdr := b64.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	msg := hdr + "." + b64.EncodeToString(body)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(msg))
	return msg + "." + b64.EncodeToString(mac.Sum(nil)), nil
}

// parseToken decodes a JWT without verifying it (returns claims and signing input).
func parseToken(tok string) (*Claims, string, []byte, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, "", nil, errInvalidAuthToken
	}
	hb, err := b64.DecodeString(parts[0])
	if err != nil {
		return nil, "", nil, errInvalidAuthToken
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hb, &hdr) != nil {
		return nil, "", nil, errInvalidAuthToken
	}
	if hdr.Alg != "HS256" {
		return nil, "", nil, errInvalidAuthToken
	}
	pb, err := b64.DecodeString(parts[1])
	if err != nil {
		return nil, "", nil, errInvalidAuthToken
	}
	var c Claims
	if json.Unmarshal(pb, &c) != nil {
		return nil, "", nil, errInvalidAuthToken
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, "", nil, errInvalidAuthToken
	}
	return &c, parts[0] + "." + parts[1], sig, nil
}

// verifyToken checks signature, key and times. The error text is what LiveKit
// writes in its 401 body.
func verifyToken(tok, apiKey, secret string, now time.Time) (*Claims, error) {
	c, input, sig, err := parseToken(tok)
	if err != nil {
		return nil, err
	}
	if c.Issuer != apiKey {
		return nil, errInvalidAPIKey
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(input))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return nil, fmt.Errorf("%w: go-jose/go-jose: error in cryptographic primitive", errInvalidAuthToken)
	}
	if c.Expiry == 0 {
		return nil, fmt.Errorf("%w: token has no exp claim", errInvalidAuthToken)
	}
	if now.Add(-jwtLeeway).After(time.Unix(c.Expiry, 0)) {
		return nil, fmt.Errorf("%w: go-jose/go-jose/jwt: validation failed, token is expired (exp)", errInvalidAuthToken)
	}
	if c.NotBef != 0 && now.Add(jwtLeeway).Before(time.Unix(c.NotBef, 0)) {
		return nil, fmt.Errorf("%w: go-jose/go-jose/jwt: validation failed, token not valid yet (nbf)", errInvalidAuthToken)
	}
	return c, nil
}

// checkJoin applies LiveKit's connect-request validation: returns HTTP status and error.
func checkJoin(c *Claims, room string) (int, error) {
	if c.Video == nil || !c.Video.RoomJoin {
		return 401, errPermissionDenied
	}
	if c.Subject == "" {
		return 400, errIdentityEmpty
	}
	if c.Video.Room != room {
		// livekit-server with room auto-create disabled
		return 404, errRoomNotFound
	}
	return 200, nil
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

// refreshedToken re-signs the same grants with a later expiry (LiveKit's refresh_token).
func refreshedToken(c *Claims, secret string, now time.Time) (string, error) {
	n := *c
	ttl := time.Duration(c.Expiry-c.NotBef) * time.Second
	if c.NotBef == 0 || ttl < 10*time.Minute {
		ttl = 10 * time.Minute
	}
	n.NotBef = now.Unix()
	n.Expiry = now.Add(ttl).Unix()
	return signToken(&n, secret)
}
