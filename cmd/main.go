/*
Copyright 2026 The directus-operator Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command directus-operator is one binary with the operator, the sidecar and
// the CLI:
//
//	directus-operator operator   run the controller manager
//	directus-operator sidecar    run one subscription from flags/env in a pod
//	directus-operator tail       print a subscription's messages as JSON lines
//	directus-operator send       perform an items action (create, read, update, delete)
//	directus-operator version    print the version
package main

import (
	"fmt"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type command struct {
	name, summary string
	run           func(args []string) int
}

func commands() []command {
	return []command{
		{"operator", "run the controller manager (DirectusSubscription → ConfigMap/Events)", runOperator},
		{"sidecar", "run one subscription from flags/env, into a ConfigMap or a directory", runSidecar},
		{"tail", "print a subscription's messages as JSON lines", runTail},
		{"send", "perform an items action (create, read, update, delete) and print the reply", runSend},
		{"version", "print the version", func([]string) int { fmt.Println(version); return 0 }},
	}
}

func usage() {
	fmt.Fprintf(os.Stderr, "Usage: directus-operator <command> [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun 'directus-operator <command> -h' for a command's flags.\n")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	for _, c := range commands() {
		if c.name == os.Args[1] {
			os.Exit(c.run(os.Args[2:]))
		}
	}
	if os.Args[1] == "-h" || os.Args[1] == "--help" || os.Args[1] == "help" {
		usage()
		os.Exit(0)
	}
	fmt.Fprintf(os.Stderr, "unknown command %q\n\n", os.Args[1])
	usage()
	os.Exit(2)
}
