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
// the CLI; `directus-operator --help` lists the commands, docs/cli.md
// describes them. Installed as kubectl-directus it is a kubectl plugin.
package main

import (
	"os"
	"path/filepath"
)

// version and commit are set at build time with
// -ldflags "-X main.version=v0.1.0 -X main.commit=0123abcd".
var (
	version = "dev"
	commit  = "none"
)

func main() {
	ctx, stop := signalContext()
	code := execute(ctx, filepath.Base(os.Args[0]), os.Args[1:], &cli{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(code)
}
