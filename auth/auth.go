// Package auth checks bearer tokens and the roles they carry (contract §6).
//
// An [Authenticator] is built once from the configured tokens. It resolves
// every secret (inline, environment variable or file) at construction and
// keeps only their SHA-256 hashes. Its only mutable state is the count of
// failed logins per client address ([Authenticator.LimitFailures]), which is
// synchronized: all its methods are safe for concurrent use.
//
// With no tokens configured authentication is off: every request is allowed
// and carries the identity "anonymous" (see [Authenticator.Enabled]).
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// Role is a permission a token carries.
type Role string

// The roles of contract §6.
const (
	RoleIngest         Role = "ingest"          // webhook senders
	RoleAnalyst        Role = "analyst"         // works incidents; implies viewer
	RoleProblemManager Role = "problem_manager" // works problems; implies viewer
	RoleViewer         Role = "viewer"          // reads
	RoleAdmin          Role = "admin"           // has every role
)

var knownRoles = []Role{RoleIngest, RoleAnalyst, RoleProblemManager, RoleViewer, RoleAdmin}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	for _, k := range knownRoles {
		if r == k {
			return true
		}
	}
	return false
}

// AnonymousName is the identity of every request when authentication is off.
const AnonymousName = "anonymous"

// TokenConfig is one configured token. Exactly one of Token, TokenSHA256,
// TokenEnv and TokenFile gives its secret.
type TokenConfig struct {
	// Name identifies the token's holder in audit trails and logs.
	Name string `yaml:"name"`
	// Token is the secret in plain text; discouraged, prefer the others.
	Token string `yaml:"token"`
	// TokenSHA256 is the hex SHA-256 of the secret.
	TokenSHA256 string `yaml:"token_sha256"`
	// TokenEnv names an environment variable holding the secret.
	TokenEnv string `yaml:"token_env"`
	// TokenFile names a file holding the secret; surrounding white space
	// (such as the trailing newline editors add) is ignored.
	TokenFile string `yaml:"token_file"`
	// Roles the token grants; at least one.
	Roles []Role `yaml:"roles"`
}

// Validate checks the configuration without resolving the secret. Errors
// name the offending field by its YAML name.
func (t TokenConfig) Validate() error {
	if strings.TrimSpace(t.Name) == "" {
		return errors.New("name: required")
	}
	var set []string
	for _, s := range []struct{ field, v string }{
		{"token", t.Token}, {"token_sha256", t.TokenSHA256}, {"token_env", t.TokenEnv}, {"token_file", t.TokenFile},
	} {
		if s.v != "" {
			set = append(set, s.field)
		}
	}
	switch len(set) {
	case 0:
		return errors.New("token: one of token, token_sha256, token_env and token_file is required")
	case 1:
	default:
		return fmt.Errorf("%s: conflicts with %s; set exactly one of token, token_sha256, token_env and token_file", set[1], set[0])
	}
	if t.TokenSHA256 != "" {
		if _, err := parseSHA256(t.TokenSHA256); err != nil {
			return fmt.Errorf("token_sha256: %w", err)
		}
	}
	if len(t.Roles) == 0 {
		return errors.New("roles: at least one role is required")
	}
	for i, r := range t.Roles {
		if !r.Valid() {
			return fmt.Errorf("roles[%d]: unknown role %q (known: %s)", i, r, roleList(knownRoles))
		}
	}
	return nil
}

func parseSHA256(s string) ([sha256.Size]byte, error) {
	var h [sha256.Size]byte
	if len(s) != hex.EncodedLen(sha256.Size) {
		return h, fmt.Errorf("must be %d hex digits, got %d characters", hex.EncodedLen(sha256.Size), len(s))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, errors.New("must be hex digits")
	}
	return h, nil
}

func roleList(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// Identity is who made a request.
type Identity struct {
	Name  string
	Roles []Role
}

// Has reports whether the identity holds role r: admin holds every role, and
// analyst and problem_manager both imply viewer.
func (id Identity) Has(r Role) bool {
	for _, have := range id.Roles {
		switch {
		case have == r, have == RoleAdmin:
			return true
		case r == RoleViewer && (have == RoleAnalyst || have == RoleProblemManager):
			return true
		}
	}
	return false
}

type entry struct {
	hash [sha256.Size]byte
	id   Identity
}

// Authenticator checks bearer tokens against the configured ones.
type Authenticator struct {
	entries []entry
	// compare is subtle.ConstantTimeCompare; a field so a test can check
	// that every token is compared, whatever matches.
	compare func(a, b []byte) int
	// failures, when set, locks out addresses that present too many
	// invalid tokens.
	failures *failureLimiter
}

// New validates tokens and resolves their secrets: getenv and readFile
// default to os.Getenv and os.ReadFile when nil. Only the SHA-256 hashes of
// the secrets are kept. Errors name the token by index and field.
func New(tokens []TokenConfig, getenv func(string) string, readFile func(string) ([]byte, error)) (*Authenticator, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if readFile == nil {
		readFile = os.ReadFile
	}
	a := &Authenticator{compare: subtle.ConstantTimeCompare}
	names := make(map[string]int, len(tokens))
	hashes := make(map[[sha256.Size]byte]int, len(tokens))
	for i, t := range tokens {
		if err := t.Validate(); err != nil {
			return nil, fmt.Errorf("tokens[%d].%w", i, err)
		}
		if j, ok := names[t.Name]; ok {
			return nil, fmt.Errorf("tokens[%d].name: %q already used by tokens[%d]", i, t.Name, j)
		}
		names[t.Name] = i
		h, err := resolve(t, getenv, readFile)
		if err != nil {
			return nil, fmt.Errorf("tokens[%d].%w", i, err)
		}
		if j, ok := hashes[h]; ok {
			return nil, fmt.Errorf("tokens[%d] (%s): same secret as tokens[%d] (%s); each holder needs its own token", i, t.Name, j, tokens[j].Name)
		}
		hashes[h] = i
		a.entries = append(a.entries, entry{hash: h, id: Identity{Name: t.Name, Roles: append([]Role(nil), t.Roles...)}})
	}
	return a, nil
}

// resolve returns the SHA-256 of t's secret; its errors start with the field.
func resolve(t TokenConfig, getenv func(string) string, readFile func(string) ([]byte, error)) ([sha256.Size]byte, error) {
	switch {
	case t.TokenSHA256 != "":
		return parseSHA256(t.TokenSHA256)
	case t.TokenEnv != "":
		v := getenv(t.TokenEnv)
		if v == "" {
			return [sha256.Size]byte{}, fmt.Errorf("token_env: environment variable %q is unset or empty", t.TokenEnv)
		}
		return sha256.Sum256([]byte(v)), nil
	case t.TokenFile != "":
		b, err := readFile(t.TokenFile)
		if err != nil {
			return [sha256.Size]byte{}, fmt.Errorf("token_file: %w", err)
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return [sha256.Size]byte{}, fmt.Errorf("token_file: %s is empty", t.TokenFile)
		}
		return sha256.Sum256([]byte(v)), nil
	default:
		return sha256.Sum256([]byte(t.Token)), nil
	}
}

// Enabled reports whether any token is configured. When it is false, every
// request is allowed and its identity is "anonymous".
func (a *Authenticator) Enabled() bool { return a != nil && len(a.entries) > 0 }

var anonymous = Identity{Name: AnonymousName, Roles: []Role{RoleAdmin}}

// Authenticate checks an Authorization header value ("Bearer <token>", the
// scheme case-insensitive). It hashes the token and compares the hash with
// every configured one in constant time, without stopping at a match.
func (a *Authenticator) Authenticate(header string) (Identity, bool) {
	if !a.Enabled() {
		return anonymous, true
	}
	tok, ok := bearer(header)
	if !ok {
		return Identity{}, false
	}
	h := sha256.Sum256([]byte(tok))
	found := -1
	for i := range a.entries {
		match := a.compare(h[:], a.entries[i].hash[:])
		found = subtle.ConstantTimeSelect(match, i, found)
	}
	if found < 0 {
		return Identity{}, false
	}
	return a.entries[found].id, true
}

func bearer(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

// Require returns gin middleware that lets a request through when its bearer
// token is valid and its identity holds at least one of roles (any valid
// token when roles is empty). It answers 401 with a WWW-Authenticate
// challenge when the token is missing or invalid, and 403 when no role
// matches. With [Authenticator.LimitFailures] on, a client address that
// presented too many invalid tokens gets 429 with Retry-After, whatever its
// token, until its allowance refills. The identity is put in the request's
// context; read it with [IdentityFrom]. With authentication off every
// request passes as "anonymous".
func (a *Authenticator) Require(roles ...Role) gin.HandlerFunc {
	roles = append([]Role(nil), roles...)
	return func(c *gin.Context) {
		fl := a.failures
		if fl != nil && a.Enabled() {
			if wait, locked := fl.locked(c.RemoteIP()); locked {
				c.Header("Retry-After", strconv.Itoa(retryAfter(wait)))
				c.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": "too many invalid tokens from this address: retry later"})
				return
			}
		}
		header := c.GetHeader("Authorization")
		id, ok := a.Authenticate(header)
		if !ok {
			if fl != nil && header != "" {
				fl.failed(c.RemoteIP())
			}
			challenge := `Bearer realm="vigia"`
			msg := "missing bearer token"
			if header != "" {
				challenge += `, error="invalid_token"`
				msg = "invalid bearer token"
			}
			c.Header("WWW-Authenticate", challenge)
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": msg})
			return
		}
		if !hasAny(id, roles) {
			c.AbortWithStatusJSON(http.StatusForbidden, gin.H{
				"error": fmt.Sprintf("token %q lacks the role needed here (one of: %s)", id.Name, roleList(roles)),
			})
			return
		}
		c.Request = c.Request.WithContext(NewContext(c.Request.Context(), id))
		c.Next()
	}
}

func hasAny(id Identity, roles []Role) bool {
	if len(roles) == 0 {
		return true
	}
	for _, r := range roles {
		if id.Has(r) {
			return true
		}
	}
	return false
}

type ctxKey struct{}

// NewContext returns a copy of ctx carrying id.
func NewContext(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// IdentityFrom returns the identity [Authenticator.Require] (or [NewContext])
// put in ctx, or the zero Identity if there is none.
func IdentityFrom(ctx context.Context) Identity {
	id, _ := ctx.Value(ctxKey{}).(Identity)
	return id
}
