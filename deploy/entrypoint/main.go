// Command mqentry is the entrypoint of the mqstack container images (which
// are FROM scratch: no shell). It turns the environment variables of the
// Apache images the seeds use into a config file and execs the daemon:
//
//	mqentry zkd       ZOO_MY_ID, ZOO_SERVERS, ZOO_* -> /conf/zoo.cfg + /data/myid, then zkd start-foreground
//	mqentry brokerd   KAFKA_BROKER_ID, KAFKA_ZOOKEEPER_CONNECT, KAFKA_LISTENERS,
//	                  KAFKA_ADVERTISED_LISTENERS, KAFKA_* -> /config/server.properties, then brokerd start
//	mqentry eagle     ZK_HOSTS, EFAK_* -> /ke/conf/system-config.properties, then eagle start
//	mqentry print zkd|brokerd|eagle   print the config the environment gives, start nothing
//
// A config file mounted at the path above is used as it is (as the Apache
// images do). Every error is one line naming the variable and the fix.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

// daemon describes one image: its config file, the generator and the command.
type daemon struct {
	config string
	gen    func(env map[string]string) (config string, files map[string]string, err error)
	argv   func(config string) []string
}

var daemons = map[string]daemon{
	"zkd": {config: "/conf/zoo.cfg", gen: zooConfig,
		argv: func(c string) []string { return []string{"/bin/zkd", "start-foreground", c} }},
	"brokerd": {config: "/config/server.properties", gen: kafkaConfig,
		argv: func(c string) []string { return []string{"/bin/brokerd", "start", c} }},
	"eagle": {config: "/ke/conf/system-config.properties", gen: eagleConfig,
		argv: func(c string) []string { return []string{"/bin/eagle", "start", c} }},
}

func run(args, environ []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "mqentry: usage: mqentry {zkd|brokerd|eagle|print <daemon>}")
		return 2
	}
	env := envMap(environ)
	switch args[0] {
	case "print":
		if len(args) != 2 {
			fmt.Fprintln(stderr, "mqentry: usage: mqentry print {zkd|brokerd|eagle}")
			return 2
		}
		d, ok := daemons[args[1]]
		if !ok {
			fmt.Fprintf(stderr, "mqentry: unknown daemon %q (zkd, brokerd or eagle)\n", args[1])
			return 2
		}
		cfg, files, err := d.gen(env)
		if err != nil {
			fmt.Fprintln(stderr, "mqentry:", err)
			return 1
		}
		fmt.Fprint(stdout, cfg)
		for p, c := range files {
			fmt.Fprintf(stdout, "# %s: %s", p, c)
		}
		return 0
	}
	d, ok := daemons[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "mqentry: unknown daemon %q (zkd, brokerd or eagle)\n", args[0])
		return 2
	}
	if _, err := os.Stat(d.config); err == nil {
		fmt.Fprintf(stderr, "mqentry: using the mounted %s as it is\n", d.config)
	} else {
		cfg, files, err := d.gen(env)
		if err != nil {
			fmt.Fprintln(stderr, "mqentry:", err)
			return 1
		}
		files[d.config] = cfg
		for p, c := range files {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				fmt.Fprintf(stderr, "mqentry: create %s: %v (is the volume writable?)\n", filepath.Dir(p), err)
				return 1
			}
			if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
				fmt.Fprintf(stderr, "mqentry: write %s: %v (is the volume writable?)\n", p, err)
				return 1
			}
		}
	}
	argv := d.argv(d.config)
	if err := syscall.Exec(argv[0], argv, environ); err != nil {
		fmt.Fprintf(stderr, "mqentry: exec %s: %v (the image must hold %s)\n", argv[0], err, argv[0])
		return 1
	}
	return 0
}
