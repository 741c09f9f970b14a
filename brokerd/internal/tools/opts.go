package tools

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Opt is one command-line option, declared the way Kafka's tools declare
// theirs with joptsimple: a long name used as --name, an optional argument
// (Arg names it in the help, "" means a flag without one), a description.
type Opt struct {
	Name     string
	Arg      string // argument description; "" = no argument
	Help     string
	Default  string // shown in the help and returned by Parsed.String
	Multi    bool   // may be given more than once (--property, --config, ...)
	Optional bool   // the argument may be left out (--compression-codec)
	// Nargs takes every following argument up to the next option, as
	// argparse4j's nargs("+") in the perf tools (--producer-props a=1 b=2).
	Nargs bool
}

// usageError is a command-line mistake: printed with a hint to --help.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// Parsed holds the options given on one command line.
type Parsed struct {
	opts map[string]*Opt
	vals map[string][]string
}

// parse reads args as joptsimple does for Kafka's tools: --name value,
// --name=value, and any unambiguous prefix of a name (--from-beg).
func parse(opts []Opt, args []string) (*Parsed, error) {
	p := &Parsed{opts: map[string]*Opt{}, vals: map[string][]string{}}
	for i := range opts {
		p.opts[opts[i].Name] = &opts[i]
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			return nil, usagef("unexpected argument %q: options start with --", a)
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		o, err := p.lookup(name)
		if err != nil {
			return nil, err
		}
		switch {
		case o.Arg == "":
			if hasVal {
				return nil, usagef("option --%s takes no argument", o.Name)
			}
			val = "true"
		case hasVal:
		case o.Nargs && i+1 < len(args):
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				i++
				p.vals[o.Name] = append(p.vals[o.Name], args[i])
			}
			continue
		case i+1 < len(args) && (!o.Optional || !strings.HasPrefix(args[i+1], "--")):
			i++
			val = args[i]
		case o.Optional:
			val = ""
		default:
			return nil, usagef("option --%s requires an argument <%s>", o.Name, o.Arg)
		}
		if len(p.vals[o.Name]) > 0 && !o.Multi && !o.Nargs && o.Arg != "" {
			return nil, usagef("option --%s given more than once", o.Name)
		}
		p.vals[o.Name] = append(p.vals[o.Name], val)
	}
	return p, nil
}

func (p *Parsed) lookup(name string) (*Opt, error) {
	if o, ok := p.opts[name]; ok {
		return o, nil
	}
	var hits []string
	for n := range p.opts {
		if strings.HasPrefix(n, name) {
			hits = append(hits, n)
		}
	}
	switch len(hits) {
	case 1:
		return p.opts[hits[0]], nil
	case 0:
		return nil, usagef("%s is not a recognized option", name)
	}
	sort.Strings(hits)
	return nil, usagef("option --%s is ambiguous (--%s)", name, strings.Join(hits, ", --"))
}

// Has reports whether the option was given.
func (p *Parsed) Has(name string) bool { p.must(name); return len(p.vals[name]) > 0 }

// String is the option's (last) value or its default.
func (p *Parsed) String(name string) string {
	o := p.must(name)
	if v := p.vals[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return o.Default
}

// Strings is every value given for a repeatable option.
func (p *Parsed) Strings(name string) []string { p.must(name); return p.vals[name] }

// Int parses the option as an integer (or its default); "" is def.
func (p *Parsed) Int(name string, def int64) (int64, error) {
	s := p.String(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, usagef("option --%s: %q is not a number", name, s)
	}
	return n, nil
}

// Count is how many of the named options were given (Kafka's "exactly
// one action" checks).
func (p *Parsed) Count(names ...string) int {
	n := 0
	for _, name := range names {
		if p.Has(name) {
			n++
		}
	}
	return n
}

// Require fails unless every named option was given.
func (p *Parsed) Require(names ...string) error {
	for _, n := range names {
		if !p.Has(n) {
			return usagef("missing required argument \"[%s]\"", n)
		}
	}
	return nil
}

// must catches a tool asking for an option it did not declare (a bug in
// the tool, not bad input).
func (p *Parsed) must(name string) *Opt {
	o, ok := p.opts[name]
	if !ok {
		panic("tools: undeclared option " + name)
	}
	return o
}

// printHelp writes joptsimple's two-column option table.
func printHelp(w io.Writer, t *Tool) {
	fmt.Fprintln(w, t.Summary)
	fmt.Fprintf(w, "%-40s %s\n%-40s %s\n", "Option", "Description", "------", "-----------")
	opts := append([]Opt(nil), t.Opts...)
	sort.Slice(opts, func(i, j int) bool { return opts[i].Name < opts[j].Name })
	for _, o := range opts {
		left := "--" + o.Name
		if o.Arg != "" {
			arg := "<" + o.Arg + ">"
			if o.Optional {
				arg = "[" + o.Arg + "]"
			}
			left += " " + arg
		}
		desc := o.Help
		if o.Default != "" {
			desc += " (default: " + o.Default + ")"
		}
		lines := wrap(desc, 39)
		if len(left) > 40 {
			fmt.Fprintln(w, left)
			left = ""
		}
		for i, l := range lines {
			if i > 0 {
				left = ""
			}
			fmt.Fprintf(w, "%-40s %s\n", left, l)
		}
	}
}

func wrap(s string, width int) []string {
	var out []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && len(line)+1+len(word) > width {
			out = append(out, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += word
	}
	return append(out, line)
}
