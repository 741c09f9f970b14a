package coord

import (
	"crypto/rand"
	"encoding/base64"
)

// NewUUID returns 16 random bytes in URL-safe base64 without padding, the
// text form of Kafka's Uuid (topic ids, cluster ids).
func NewUUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	return base64.RawURLEncoding.EncodeToString(u[:])
}

// ParseUUID decodes NewUUID's form; ok=false for anything else.
func ParseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return u, false
	}
	copy(u[:], b)
	return u, true
}
