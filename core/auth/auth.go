// Package auth owns identity, credentials and permission decisions: the
// users of a crm instance and their roles, password hashing (argon2id),
// login sessions and API tokens, the rate limiting of logins, and the
// answer to "may this principal read, write or change that entity's
// records".
//
// It must not speak HTTP (package api decodes requests, sets cookies and
// maps this package's errors to statuses) and must not know how anything is
// stored: it keeps JSON documents, addressed by a kind and a key, through
// the system-document API of store.Store, and never sees a backend.
// Secrets leave this package once, when they are made: only their SHA-256
// is stored, and nothing here logs a password or a secret.
//
// Stored documents (store kinds):
//
//	user        key user id     -> User
//	user_email  key email       -> user id (the uniqueness index of e-mails)
//	token       key token id    -> token metadata (and the hash of its secret)
//	token_hash  key sha256 hex  -> token id
//	login_limit key limit/key   -> a login limit's token bucket (ratelimit.go)
//	login_known key addr/email  -> when the account last logged in from addr
package auth

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/feed"
	"github.com/crmkit/crm/core/store"
)

// AdminRole is the built-in role that may do everything: read and change
// every record (other users' too), read deleted records' history, and
// manage users and tokens. It is never declared in the configuration.
const AdminRole = "admin"

// DefaultAdminEmail is the e-mail EnsureAdmin uses when given none.
const DefaultAdminEmail = "admin@localhost"

// Password length limits, in characters (runes) for the minimum and bytes
// for the maximum.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 1024
)

// Token kinds.
const (
	KindSession = "session"
	KindAPI     = "api"
)

// Prefixes of secrets, which tell a session from an API token at a glance
// (and let secret scanners find leaked ones).
const (
	SessionPrefix  = "crms_"
	APITokenPrefix = "crmt_"
)

// Store kinds of the documents this package keeps.
const (
	kindUser      = store.KindUser
	kindUserEmail = store.KindUserEmail
	kindToken     = store.KindToken
	kindTokenHash = store.KindTokenHash
)

var (
	// ErrBadCredentials is returned by Login for an unknown e-mail, a wrong
	// password or a disabled user alike, so that a caller cannot tell them apart.
	ErrBadCredentials = errors.New("wrong e-mail or password")
	// ErrUnauthenticated is returned by Authenticate for a secret that is
	// malformed, unknown, revoked or expired, or whose user is disabled or gone.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden is returned when the caller may not do what it asked.
	ErrForbidden = errors.New("forbidden")
	// ErrExists is returned when creating something that already exists (a
	// user with the same e-mail).
	ErrExists = errors.New("already exists")
	// ErrNotFound is returned for an unknown user or token.
	ErrNotFound = errors.New("not found")
	// ErrInvalid matches every *InvalidError with errors.Is.
	ErrInvalid = errors.New("invalid")
)

// InvalidError is an input refused by validation: a malformed e-mail, an
// unknown role, a short password. Field names the input ("email", "name",
// "role", "password", "ttl"). It matches ErrInvalid with errors.Is, and
// unwraps to a *store.InvalidError with the same field and message, so a
// layer that maps the store's invalid values to a client error maps this
// one alike.
type InvalidError struct {
	Field   string
	Message string
}

// Error returns the message, which names the problem and how to fix it.
func (e *InvalidError) Error() string { return e.Message }

// Is reports whether target is ErrInvalid.
func (e *InvalidError) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the same problem as a *store.InvalidError.
func (e *InvalidError) Unwrap() error {
	return &store.InvalidError{Field: e.Field, Message: e.Message}
}

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// RateLimitError is returned by Login when there were too many attempts for
// the account or from the address; RetryAfter says when the next attempt
// may be made.
type RateLimitError struct {
	RetryAfter time.Duration
}

// Error says to retry in RetryAfter, rounded up to whole seconds (at least 1).
func (e *RateLimitError) Error() string {
	secs := int64(math.Ceil(e.RetryAfter.Seconds()))
	if secs < 1 {
		secs = 1
	}
	return fmt.Sprintf("too many login attempts; retry in %ds", secs)
}

// User is a person who can log in. PasswordHash is an argon2id PHC string;
// send Public() to clients, never the User itself.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name"`
	Role         string    `json:"role"`
	PasswordHash string    `json:"password_hash"`
	CreatedAt    time.Time `json:"created_at"`
	Disabled     bool      `json:"disabled"`
	// Language and Calendar are the user's own choices for the UI; ""
	// means the locale block's default.
	Language string `json:"language,omitempty"`
	Calendar string `json:"calendar,omitempty"`
	// Extension is the user's phone extension on the PBX (digits), ""
	// when they have none; call tracking shows them the caller's card of
	// the calls ringing there.
	Extension string `json:"extension,omitempty"`
}

// Public returns what a client may see of the user: id, email, name, role,
// created_at, disabled, and language, calendar and extension when set.
func (u *User) Public() map[string]any {
	out := map[string]any{
		"id":         u.ID,
		"email":      u.Email,
		"name":       u.Name,
		"role":       u.Role,
		"created_at": u.CreatedAt,
		"disabled":   u.Disabled,
	}
	if u.Language != "" {
		out["language"] = u.Language
	}
	if u.Calendar != "" {
		out["calendar"] = u.Calendar
	}
	if u.Extension != "" {
		out["extension"] = u.Extension
	}
	return out
}

// Token is the metadata of a session or an API token. The secret itself is
// shown once, when it is made, and never stored.
type Token struct {
	ID         string    `json:"id"`
	UserID     string    `json:"user_id"`
	Name       string    `json:"name"`
	Kind       string    `json:"kind"` // KindSession or KindAPI
	CreatedAt  time.Time `json:"created_at"`
	ExpiresAt  time.Time `json:"expires_at,omitzero"` // zero: never
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// Options tune a Service. Zero values take the defaults.
type Options struct {
	// SessionTTL is how long a login session lasts from the login
	// (absolute, not sliding); default 7 days.
	SessionTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives login and token events; default slog.Default().
	Logger *slog.Logger
	// ArgonMemoryKiB, ArgonTime and ArgonThreads are the argon2id cost of new
	// password hashes; defaults 64*1024 (64 MiB), 1 and 2.
	ArgonMemoryKiB uint32
	ArgonTime      uint32
	ArgonThreads   uint8
}

// Defaults of Options.
const (
	DefaultSessionTTL     = 7 * 24 * time.Hour
	DefaultArgonMemoryKiB = 64 * 1024
	DefaultArgonTime      = 1
	DefaultArgonThreads   = 2
)

// Service is the authentication and authorisation service of one store. It
// is safe for concurrent use.
type Service struct {
	st    store.Store
	opts  Options
	log   *slog.Logger
	roles atomic.Pointer[roleSet]

	// hashSem bounds the password hashes computed at once: each takes
	// ArgonMemoryKiB of memory.
	hashSem chan struct{}

	dummyOnce sync.Once
	dummyHash string

	mu        sync.Mutex
	limits    limiters
	touched   map[string]time.Time // token id -> when LastUsedAt was last written
	lastPurge time.Time

	creds  *credCache                    // credentials authenticated lately (credcache.go)
	follow atomic.Pointer[feed.Consumer] // FollowRevocations' reader of the feed, while it runs
}

// New returns the service over st with the configured roles (the built-in
// "admin" role is always there and may not be redefined).
func New(st store.Store, roles []*config.Role, opts Options) *Service {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = DefaultSessionTTL
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ArgonMemoryKiB == 0 {
		opts.ArgonMemoryKiB = DefaultArgonMemoryKiB
	}
	if opts.ArgonTime == 0 {
		opts.ArgonTime = DefaultArgonTime
	}
	if opts.ArgonThreads == 0 {
		opts.ArgonThreads = DefaultArgonThreads
	}
	if min := 8 * uint32(opts.ArgonThreads); opts.ArgonMemoryKiB < min {
		opts.ArgonMemoryKiB = min
	}
	s := &Service{
		st:      st,
		opts:    opts,
		log:     opts.Logger,
		hashSem: make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		limits:  newLimiters(),
		touched: map[string]time.Time{},
		creds:   newCredCache(),
	}
	s.SetRoles(roles)
	return s
}

func (s *Service) now() time.Time { return s.opts.Now() }
