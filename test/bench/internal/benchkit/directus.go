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

package benchkit

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Directus is a real Directus 12 started by hack/directus.sh on its own
// port and state directory (the fixture: the bot user with a static token
// and the policy "Public Posts").
type Directus struct {
	root, port, state string
	extraEnv          []string
	env               map[string]string
	pid               int
}

// StartDirectus starts Directus with hack/directus.sh and reads what its
// env verb prints; check judges those variables (an error stops Directus
// and is returned as it is).
func StartDirectus(ctx context.Context, root string, port int, state string, extraEnv []string,
	check func(env map[string]string) error) (*Directus, error) {
	d := &Directus{root: root, port: strconv.Itoa(port), state: state, extraEnv: extraEnv}
	// A port held by something else would answer /server/ping in place of
	// ours. A Directus left by an interrupted run in our state directory is
	// fine: hack/directus.sh start replaces it.
	if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", d.port)); err != nil {
		if !pidFileAlive(filepath.Join(state, "pid")) {
			return nil, fmt.Errorf("port %d is in use (set BENCH_DIRECTUS_PORT to a free port): %w", port, err)
		}
	} else {
		_ = l.Close()
	}
	if err := d.script(ctx, os.Stderr, "start"); err != nil {
		d.Stop()
		return nil, fmt.Errorf("hack/directus.sh start: %w", err)
	}
	var env bytes.Buffer
	if err := d.script(ctx, &env, "env"); err != nil {
		d.Stop()
		return nil, fmt.Errorf("hack/directus.sh env: %w", err)
	}
	d.env = map[string]string{}
	sc := bufio.NewScanner(&env)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			d.env[k] = v
		}
	}
	if err := check(d.env); err != nil {
		d.Stop()
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(state, "pid"))
	if err == nil {
		d.pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	if err != nil {
		d.Stop()
		return nil, fmt.Errorf("read Directus's pid: %w", err)
	}
	return d, nil
}

func pidFileAlive(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return err == nil && pid > 0 && syscall.Kill(pid, 0) == nil
}

func (d *Directus) script(ctx context.Context, stdout io.Writer, verb string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(d.root, "hack", "directus.sh"), verb)
	cmd.Dir = d.root
	// The harness's environment passes through, so any Directus variable
	// (PRESSURE_LIMITER_ENABLED, WEBSOCKETS_REST_CONN_LIMIT, ...) set by the
	// caller reaches Directus; BENCH_DIRECTUS_ENV adds more.
	cmd.Env = append(os.Environ(), "DIRECTUS_PORT="+d.port, "DIRECTUS_STATE="+d.state)
	cmd.Env = append(cmd.Env, d.extraEnv...)
	cmd.Stdout, cmd.Stderr = stdout, os.Stderr
	return cmd.Run()
}

// Env is a variable hack/directus.sh env printed ("" when it did not).
func (d *Directus) Env(name string) string { return d.env[name] }

// URL is Directus's base URL (DIRECTUS_URL).
func (d *Directus) URL() string { return d.env["DIRECTUS_URL"] }

// Token is the bot's static token (DIRECTUS_BOT_TOKEN).
func (d *Directus) Token() string { return d.env["DIRECTUS_BOT_TOKEN"] }

// Port is the TCP port Directus listens on.
func (d *Directus) Port() int { p, _ := strconv.Atoi(d.port); return p }

// PID is the Directus server's process.
func (d *Directus) PID() int { return d.pid }

// Stop stops the Directus that start launched; it runs on a fresh context
// so that it also works after an interrupt.
func (d *Directus) Stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := d.script(ctx, os.Stderr, "stop"); err != nil {
		Logf("hack/directus.sh stop: %v", err)
	}
}
