package tree

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadPath reports a path that PathUtils.validatePath would reject.
var ErrBadPath = errors.New("tree: invalid path")

// ValidatePath applies Apache ZooKeeper's PathUtils.validatePath rules to p.
func ValidatePath(p string) error {
	if len(p) == 0 {
		return fmt.Errorf("%w: path length must be > 0", ErrBadPath)
	}
	if p[0] != '/' {
		return fmt.Errorf("%w %q: path must start with / character", ErrBadPath, p)
	}
	if len(p) == 1 {
		return nil
	}
	if p[len(p)-1] == '/' {
		return fmt.Errorf("%w %q: path must not end with / character", ErrBadPath, p)
	}
	rs := []rune(p)
	for i := 1; i < len(rs); i++ {
		c, last := rs[i], rs[i-1]
		switch {
		case c == 0:
			return fmt.Errorf("%w %q: null character not allowed @%d", ErrBadPath, p, i)
		case c == '/' && last == '/':
			return fmt.Errorf("%w %q: empty node name specified @%d", ErrBadPath, p, i)
		case c == '.' && last == '.':
			if rs[i-2] == '/' && (i+1 == len(rs) || rs[i+1] == '/') {
				return fmt.Errorf("%w %q: relative paths not allowed @%d", ErrBadPath, p, i)
			}
		case c == '.':
			if last == '/' && (i+1 == len(rs) || rs[i+1] == '/') {
				return fmt.Errorf("%w %q: relative paths not allowed @%d", ErrBadPath, p, i)
			}
		case c > 0 && c <= 0x1f, c >= 0x7f && c <= 0x9f, c >= 0xd800 && c <= 0xf8ff, c >= 0xfff0 && c <= 0xffff, c > 0xffff:
			// Runes above the BMP are UTF-16 surrogate pairs in Java, which the rule rejects.
			return fmt.Errorf("%w %q: invalid character @%d", ErrBadPath, p, i)
		}
	}
	return nil
}

// Split returns the parent path ("/" for top-level nodes) and the child name.
func Split(p string) (parent, name string) {
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/", p[i+1:]
	}
	return p[:i], p[i+1:]
}
