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

// Package benchkit is what the benchmark harnesses (test/bench/latency and
// test/bench/scale) share: the log line, running the directus-operator
// binary, a real Directus through hack/directus.sh, /proc readers and the
// end of a run (the table, the exit code).
package benchkit

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

var begin = time.Now()

// Logf writes one line to stderr, stamped with the seconds since the
// harness started.
func Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[bench %6.1fs] %s\n", time.Since(begin).Seconds(), fmt.Sprintf(format, args...))
}

// SignalContext is a context that a Ctrl-C or SIGTERM ends; a second one
// ends the harness at once. stop releases the signals.
func SignalContext() (ctx context.Context, stop func()) {
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stopSignals() // a second Ctrl-C ends the harness at once
	}()
	return ctx, stopSignals
}

// Finish ends a run: when it got far enough to have figures (started), it
// prints the table render makes and writes it to out; it returns the exit
// code for err (1 with a FAILED line, or 0).
func Finish(ctx context.Context, started bool, render func() string, out string, err error) int {
	if started {
		table := render()
		fmt.Print("\n" + table)
		if werr := WriteOut(out, table); werr != nil {
			Logf("write %s: %v", out, werr)
		} else {
			Logf("table written to %s", out)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("interrupted: %w", err)
		}
		fmt.Fprintln(os.Stderr, "bench: FAILED:", err)
		return 1
	}
	return 0
}

// WriteOut writes table to path, creating its directory.
func WriteOut(path, table string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(table), 0o644)
}

// GitCommit is the short commit of the checkout at root, with "-dirty"
// when tracked files are changed; "unknown" without git.
func GitCommit(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	commit := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		commit += "-dirty"
	}
	return commit
}

// DataKey is the PerItem ConfigMap key (and file name) of an item key, as
// the README documents it: ASCII letters, digits and '-' stay, every other
// byte becomes _XX, then .json.
func DataKey(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02X", c)
		}
	}
	return b.String() + ".json"
}
