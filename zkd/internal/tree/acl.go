package tree

import (
	"crypto/sha1"
	"encoding/base64"
	"net"
	"strconv"
	"strings"

	"mqstack/proto/jute"
)

// aclCache is Apache's ReferenceCountedACLCache: each distinct ACL list gets
// a long reference (from 1 up; -1 is OPEN_ACL_UNSAFE for a null list).
type aclCache struct {
	byRef  map[int64][]jute.ACL
	byKey  map[string]int64
	counts map[int64]int
	next   int64
}

func newACLCache() *aclCache {
	return &aclCache{byRef: map[int64][]jute.ACL{}, byKey: map[string]int64{}, counts: map[int64]int{}}
}

func aclKey(acl []jute.ACL) string {
	var b strings.Builder
	for _, a := range acl {
		b.WriteString(strconv.Itoa(int(a.Perms)))
		b.WriteByte(0)
		b.WriteString(a.ID.Scheme)
		b.WriteByte(0)
		b.WriteString(a.ID.ID)
		b.WriteByte(0)
	}
	return b.String()
}

func (c *aclCache) convert(acl []jute.ACL) int64 {
	if acl == nil {
		return -1
	}
	k := aclKey(acl)
	if r, ok := c.byKey[k]; ok {
		c.counts[r]++
		return r
	}
	c.next++
	r := c.next
	cp := append([]jute.ACL(nil), acl...)
	c.byRef[r], c.byKey[k], c.counts[r] = cp, r, 1
	return r
}

func (c *aclCache) load(ref int64, acl []jute.ACL) {
	if acl == nil {
		acl = []jute.ACL{}
	}
	c.byRef[ref] = acl
	c.byKey[aclKey(acl)] = ref
	if ref > c.next {
		c.next = ref
	}
}

func (c *aclCache) get(ref int64) []jute.ACL {
	if ref == -1 {
		return jute.OpenACLUnsafe
	}
	if a, ok := c.byRef[ref]; ok {
		return a
	}
	return jute.OpenACLUnsafe
}

func (c *aclCache) retain(ref int64) {
	if ref != -1 {
		c.counts[ref]++
	}
}

// restore undoes a release of ref whose list was acl: when that release
// dropped the last usage (and with it the entry), the entry comes back
// under the same reference. Used to roll back a failed multi.
func (c *aclCache) restore(ref int64, acl []jute.ACL) {
	if ref == -1 {
		return
	}
	if _, ok := c.byRef[ref]; !ok {
		c.byRef[ref] = acl
		k := aclKey(acl)
		if _, taken := c.byKey[k]; !taken {
			c.byKey[k] = ref
		}
	}
	c.counts[ref]++
}

func (c *aclCache) release(ref int64) {
	if ref == -1 {
		return
	}
	c.counts[ref]--
	if c.counts[ref] <= 0 {
		k := aclKey(c.byRef[ref])
		delete(c.byRef, ref)
		delete(c.counts, ref)
		if c.byKey[k] == ref {
			delete(c.byKey, k)
		}
	}
}

// Digest computes DigestAuthenticationProvider.generateDigest("user:password"):
// "user:" + base64(sha1("user:password")).
func Digest(idPassword string) string {
	user := idPassword
	if i := strings.IndexByte(idPassword, ':'); i >= 0 {
		user = idPassword[:i]
	}
	sum := sha1.Sum([]byte(idPassword))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// Auth is the permission context of a request: the session's ids.
type Auth struct {
	IDs []jute.ID
}

// IsSuper reports whether the ids include the super user.
func (a Auth) IsSuper() bool {
	for _, id := range a.IDs {
		if id.Scheme == "super" {
			return true
		}
	}
	return false
}

// Check is ZooKeeperServer.checkACL: nil if one ACL entry grants perm.
func Check(acl []jute.ACL, perm int32, auth Auth) error {
	if auth.IsSuper() || len(acl) == 0 {
		return nil
	}
	for _, a := range acl {
		if a.Perms&perm == 0 {
			continue
		}
		if a.ID.Scheme == "world" && a.ID.ID == "anyone" {
			return nil
		}
		for _, id := range auth.IDs {
			if id.Scheme != a.ID.Scheme {
				continue
			}
			switch id.Scheme {
			case "digest":
				if id.ID == a.ID.ID {
					return nil
				}
			case "ip":
				if ipMatches(id.ID, a.ID.ID) {
					return nil
				}
			}
		}
	}
	return jute.ErrNoAuth
}

// ipMatches is IPAuthenticationProvider.matches: aclExpr is addr[/bits].
func ipMatches(clientIP, aclExpr string) bool {
	ip := net.ParseIP(clientIP)
	if ip == nil {
		return false
	}
	addr, bitsStr, hasBits := strings.Cut(aclExpr, "/")
	aip := net.ParseIP(addr)
	if aip == nil {
		return false
	}
	if a4, c4 := aip.To4(), ip.To4(); (a4 == nil) != (c4 == nil) {
		return false
	} else if a4 != nil {
		aip, ip = a4, c4
	}
	bits := len(aip) * 8
	if hasBits {
		b, err := strconv.Atoi(bitsStr)
		if err != nil || b < 0 || b > bits {
			return false
		}
		bits = b
	}
	mask := net.CIDRMask(bits, len(aip)*8)
	return aip.Mask(mask).Equal(ip.Mask(mask))
}

func validIPExpr(expr string) bool {
	addr, bitsStr, hasBits := strings.Cut(expr, "/")
	ip := net.ParseIP(addr)
	if ip == nil {
		return false
	}
	if hasBits {
		b, err := strconv.Atoi(bitsStr)
		max := 128
		if ip.To4() != nil {
			max = 32
		}
		if err != nil || b < 0 || b > max {
			return false
		}
	}
	return true
}

// FixupACL is PrepRequestProcessor.fixupACL: validates acl and replaces
// "auth" entries with the session's authenticated (digest) ids. Errors are
// jute.ErrInvalidACL.
func FixupACL(acl []jute.ACL, auth Auth) ([]jute.ACL, error) {
	if len(acl) == 0 {
		return nil, jute.ErrInvalidACL
	}
	var out []jute.ACL
	add := func(a jute.ACL) {
		for _, o := range out {
			if o == a {
				return
			}
		}
		out = append(out, a)
	}
	for _, a := range acl {
		switch a.ID.Scheme {
		case "world":
			if a.ID.ID != "anyone" {
				return nil, jute.ErrInvalidACL
			}
			add(a)
		case "auth":
			found := false
			for _, id := range auth.IDs {
				if id.Scheme == "digest" {
					add(jute.ACL{Perms: a.Perms, ID: id})
					found = true
				}
			}
			if !found {
				return nil, jute.ErrInvalidACL
			}
		case "digest":
			if len(javaSplit(a.ID.ID, ":")) != 2 {
				return nil, jute.ErrInvalidACL
			}
			add(a)
		case "ip":
			if !validIPExpr(a.ID.ID) {
				return nil, jute.ErrInvalidACL
			}
			add(a)
		default:
			return nil, jute.ErrInvalidACL
		}
	}
	return out, nil
}

// javaSplit is Java's String.split for a literal separator: trailing empty
// strings are dropped ("user:" splits into one part).
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}
