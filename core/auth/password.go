package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

const (
	saltLen = 16
	keyLen  = 32

	// Bounds on the parameters CheckPassword accepts, so that a corrupt or
	// hostile hash cannot make it allocate without limit or spin for long.
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 128
)

var b64 = base64.RawStdEncoding

// HashPassword hashes password with argon2id at the given cost (memory in
// KiB, passes, lanes) and a 16-byte random salt, into a 32-byte key, and
// encodes it as a PHC string:
// "$argon2id$v=19$m=65536,t=1,p=2$<salt base64>$<key base64>".
func HashPassword(password string, memKiB, time uint32, threads uint8) (string, error) {
	if err := checkParams(memKiB, time, threads); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, time, memKiB, threads, keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, memKiB, time, threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

func checkParams(memKiB, time uint32, threads uint8) error {
	switch {
	case threads < 1:
		return errors.New("argon2id: threads must be at least 1")
	case time < 1 || time > maxTime:
		return fmt.Errorf("argon2id: time must be 1 to %d", maxTime)
	case memKiB < 8*uint32(threads) || memKiB > maxMemoryKiB:
		return fmt.Errorf("argon2id: memory must be %d to %d KiB with %d threads", 8*uint32(threads), maxMemoryKiB, threads)
	}
	return nil
}

// hashParams are the parameters of an encoded hash.
type hashParams struct {
	memKiB  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// parseHash reads a PHC argon2id string as HashPassword writes it.
func parseHash(encoded string) (*hashParams, error) {
	bad := func(why string) error { return fmt.Errorf("malformed password hash: %s", why) }
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return nil, bad("expected $argon2id$v=19$m=...,t=...,p=...$salt$key")
	}
	if parts[1] != "argon2id" {
		return nil, bad(fmt.Sprintf("algorithm %q, expected argon2id", parts[1]))
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return nil, bad(fmt.Sprintf("version %q, expected v=%d", parts[2], argon2.Version))
	}
	var hp hashParams
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return nil, bad("expected parameters m=...,t=...,p=...")
	}
	for i, name := range []string{"m", "t", "p"} {
		v, ok := strings.CutPrefix(fields[i], name+"=")
		if !ok {
			return nil, bad(fmt.Sprintf("expected parameter %s= in %q", name, parts[3]))
		}
		bits := 32
		if name == "p" {
			bits = 8
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil || v != strconv.FormatUint(n, 10) {
			return nil, bad(fmt.Sprintf("parameter %s=%q is not a number in range", name, v))
		}
		switch name {
		case "m":
			hp.memKiB = uint32(n)
		case "t":
			hp.time = uint32(n)
		case "p":
			hp.threads = uint8(n)
		}
	}
	if err := checkParams(hp.memKiB, hp.time, hp.threads); err != nil {
		return nil, bad(err.Error())
	}
	var err error
	if hp.salt, err = b64.Strict().DecodeString(parts[4]); err != nil {
		return nil, bad("salt is not base64")
	}
	if len(hp.salt) < minSaltLen || len(hp.salt) > maxSaltLen {
		return nil, bad(fmt.Sprintf("salt of %d bytes", len(hp.salt)))
	}
	if hp.key, err = b64.Strict().DecodeString(parts[5]); err != nil {
		return nil, bad("key is not base64")
	}
	if len(hp.key) < minKeyLen || len(hp.key) > maxKeyLen {
		return nil, bad(fmt.Sprintf("key of %d bytes", len(hp.key)))
	}
	return &hp, nil
}

// CheckPassword reports whether password matches the encoded argon2id hash,
// with the cost the hash names, comparing in constant time. It returns an
// error only for a malformed hash.
func CheckPassword(encoded, password string) (bool, error) {
	hp, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	key := argon2.IDKey([]byte(password), hp.salt, hp.time, hp.memKiB, hp.threads, uint32(len(hp.key)))
	return subtle.ConstantTimeCompare(key, hp.key) == 1, nil
}

// acquireHash waits for a slot to compute a password hash: at most a few
// hashes run at once, so that a burst of logins cannot take
// ArgonMemoryKiB each without bound.
func (s *Service) acquireHash(ctx context.Context) (release func(), err error) {
	select {
	case s.hashSem <- struct{}{}:
		return func() { <-s.hashSem }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hash hashes a password at the service's cost.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	release, err := s.acquireHash(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPassword(password, s.opts.ArgonMemoryKiB, s.opts.ArgonTime, s.opts.ArgonThreads)
}

// check checks a password against a hash, within the service's bound on
// concurrent hashes.
func (s *Service) check(ctx context.Context, encoded, password string) (bool, error) {
	release, err := s.acquireHash(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return CheckPassword(encoded, password)
}

// needsRehash reports whether encoded was made with another cost than the
// service's.
func (s *Service) needsRehash(encoded string) bool {
	hp, err := parseHash(encoded)
	return err == nil && (hp.memKiB != s.opts.ArgonMemoryKiB || hp.time != s.opts.ArgonTime ||
		hp.threads != s.opts.ArgonThreads || len(hp.key) != keyLen)
}

// dummy returns a hash of a random password at the service's cost, which
// Login checks for an unknown e-mail so that it takes as long as for a
// known one.
func (s *Service) dummy() string {
	s.dummyOnce.Do(func() {
		h, err := HashPassword(rand.Text(), s.opts.ArgonMemoryKiB, s.opts.ArgonTime, s.opts.ArgonThreads)
		if err != nil { // the options were checked in New; keep Login working all the same
			h, _ = HashPassword(rand.Text(), DefaultArgonMemoryKiB, DefaultArgonTime, DefaultArgonThreads)
		}
		s.dummyHash = h
	})
	return s.dummyHash
}

const passwordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"

// randomPassword returns n characters drawn uniformly from passwordAlphabet
// (letters and digits without the look-alikes 0, O, 1, l, I).
func randomPassword(n int) string {
	out := make([]byte, 0, n)
	limit := byte(256 - 256%len(passwordAlphabet))
	buf := make([]byte, 2*n)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never fails (Go 1.24+)
		for _, b := range buf {
			if b < limit && len(out) < n {
				out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
			}
		}
	}
	return string(out)
}
