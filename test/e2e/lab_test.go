//go:build e2e

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

package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/directus-operator/directus-operator/test/envtestutil"
)

// lab is a real Directus started by hack/directus.sh on 127.0.0.1.
type lab struct {
	port  int
	state string
	env   []string
}

func (l *lab) url() string { return fmt.Sprintf("http://127.0.0.1:%d", l.port) }

func (l *lab) run(cmd string, extraEnv ...string) error {
	c := exec.Command(filepath.Join(envtestutil.RepoRoot(), "hack", "directus.sh"), cmd)
	c.Env = append(os.Environ(), fmt.Sprintf("DIRECTUS_PORT=%d", l.port), "DIRECTUS_STATE="+l.state)
	c.Env = append(c.Env, l.env...)
	c.Env = append(c.Env, extraEnv...)
	out, err := c.CombinedOutput()
	if err != nil {
		return fmt.Errorf("hack/directus.sh %s: %w\n%s", cmd, err, out)
	}
	return nil
}

// start bootstraps a fresh database with the quickstart's fixture.
func (l *lab) start() error { return l.run("start") }

// restart stops Directus and starts it again on the same database, with
// extra environment (e.g. WEBSOCKETS_ENABLED=false) for this run only.
func (l *lab) restart(t *testing.T, extraEnv ...string) {
	t.Helper()
	if err := l.run("restart", extraEnv...); err != nil {
		t.Fatal(err)
	}
}

func (l *lab) stop() error { return l.run("stop") }

// proxy is a TCP relay in front of Directus whose connections a test can cut
// and refuse, to play a network that fails while Directus itself stays up.
type proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	// websockets are the relayed connections whose first request asked
	// for a WebSocket upgrade: the realtime sockets, counted at the TCP
	// level.
	websockets map[net.Conn]struct{}
	refused    bool
	// stalled connections stay open but carry nothing: a hung peer.
	stalled bool
}

func newProxy(target string) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, target: strings.TrimPrefix(target, "http://"), conns: map[net.Conn]struct{}{}, websockets: map[net.Conn]struct{}{}}
	go p.serve()
	return p, nil
}

func (p *proxy) url() string { return "http://" + p.ln.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refused := p.refused
		p.mu.Unlock()
		if refused {
			_ = c.Close()
			continue
		}
		go p.relay(c)
	}
}

func (p *proxy) relay(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for first := true; ; first = false {
			n, err := src.Read(buf)
			p.mu.Lock()
			stalled := p.stalled
			if first && src == c && strings.Contains(strings.ToLower(string(buf[:n])), "\r\nupgrade: websocket") {
				p.websockets[c] = struct{}{}
			}
			p.mu.Unlock()
			if n > 0 && !stalled {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	_ = c.Close()
	_ = up.Close()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	delete(p.websockets, c)
	p.mu.Unlock()
}

// openWebSockets counts the realtime sockets open through the proxy.
func (p *proxy) openWebSockets() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.websockets)
}

// cut closes every relayed connection and refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refused = true
	for c := range p.conns {
		_ = c.Close()
	}
}

func (p *proxy) restore() {
	p.mu.Lock()
	p.refused, p.stalled = false, false
	p.mu.Unlock()
}

// stall keeps every connection open but drops what it carries, until
// restore: only a heartbeat can tell.
func (p *proxy) stall() {
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
}

func (p *proxy) close() { _ = p.ln.Close(); p.cut() }
