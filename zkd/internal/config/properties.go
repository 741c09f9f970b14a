package config

import (
	"strconv"
	"strings"
)

// property is one key=value of a Java properties file, with the line it
// starts on (1-based) for error messages.
type property struct {
	Key, Value string
	Line       int
}

// parseProperties reads text in java.util.Properties.load syntax, which is
// what Apache's QuorumPeerConfig uses for zoo.cfg:
//   - lines whose first non-blank character is '#' or '!' are comments;
//   - the key ends at the first unescaped '=', ':' or blank; blanks around
//     the separator are skipped ("key value", "key = value", "key:value");
//   - a line ending in an odd number of backslashes continues on the next
//     line, whose leading blanks are dropped;
//   - escapes \t \n \r \f \uXXXX are decoded, and any other \c is c.
//
// Later duplicates are kept too; the caller decides (Properties keeps the last).
func parseProperties(text string) []property {
	var out []property
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		startLine := i + 1
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// Join continuation lines.
		for endsWithOddBackslashes(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		if endsWithOddBackslashes(line) { // continuation at end of file
			line = line[:len(line)-1]
		}
		key, value := splitKeyValue(line)
		out = append(out, property{Key: unescape(key), Value: unescape(value), Line: startLine})
	}
	return out
}

func endsWithOddBackslashes(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func splitKeyValue(line string) (string, string) {
	end := len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++ // skip the escaped character
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			end = i
			break
		}
	}
	key := line[:end]
	rest := line[end:]
	rest = strings.TrimLeft(rest, " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	return key, rest
}

func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+4 < len(s) {
				if r, err := strconv.ParseUint(s[i+1:i+5], 16, 16); err == nil {
					b.WriteRune(rune(r))
					i += 4
					continue
				}
			}
			b.WriteByte('u') // Java throws on a malformed \u; we keep the text
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
