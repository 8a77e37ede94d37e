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

package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// buildOperator compiles ./cmd into dir.
func buildOperator(ctx context.Context, root, dir string) (string, error) {
	bin := dir + "/directus-operator"
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd")
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd: %w", err)
	}
	return bin, nil
}

// freePort returns a TCP port nothing listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// flagValue returns the last value of a flag (-name v, --name v, -name=v,
// --name=v) in args, "" when it is not there.
func flagValue(args []string, name string) string {
	val := ""
	for i := 0; i < len(args); i++ {
		a := strings.TrimLeft(args[i], "-")
		if !strings.HasPrefix(args[i], "-") {
			continue
		}
		if k, v, ok := strings.Cut(a, "="); ok && k == name {
			val = v
		} else if a == name && i+1 < len(args) {
			val = args[i+1]
			i++
		}
	}
	return val
}

// operatorProc is one run of the operator binary.
type operatorProc struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	err     error
	log     *os.File
}

// startOperator runs `bin operator args...` with KUBECONFIG, its output in
// logPath. It runs in its own process group so that a Ctrl-C in the
// terminal reaches the harness, which stops it in order, and dies with the
// harness.
func startOperator(bin, kubeconfig string, args []string, logPath string) (*operatorProc, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"operator"}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &operatorProc{cmd: cmd, done: make(chan struct{}), log: logFile}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start the operator: %w", err)
	}
	go func() {
		p.err = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *operatorProc) pid() int { return p.cmd.Process.Pid }

func (p *operatorProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitHealthy polls /healthz until it answers 200, the process exits or
// the deadline passes.
func (p *operatorProc) waitHealthy(ctx context.Context, probeAddr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+probeAddr+"/healthz", nil)
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("the operator exited during start (%v); see %s", p.err, p.log.Name())
		case <-ctx.Done():
			return fmt.Errorf("the operator's /healthz on %s did not answer in %s; see %s", probeAddr, timeout, p.log.Name())
		case <-tick.C:
		}
	}
}

// terminate sends SIGTERM and waits for the exit; after timeout it sends
// SIGKILL. It returns how long the exit took and whether it was killed.
func (p *operatorProc) terminate(timeout time.Duration) (time.Duration, bool) {
	start := time.Now()
	if p.exited() {
		return 0, false
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return time.Since(start), false
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return time.Since(start), true
	}
}

// scrapeMetrics reads the operator's metrics endpoint: plain http first,
// then https (controller-runtime's secure serving, self-signed) with a
// bearer token when there is one. It returns every sample by its series
// (name{labels}); ok is false when neither scheme answers.
func scrapeMetrics(addr, bearer string) (samples map[string]float64, ok bool) {
	if addr == "" || addr == "0" {
		return nil, false
	}
	if strings.HasPrefix(addr, ":") {
		addr = "127.0.0.1" + addr
	}
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the operator's self-signed metrics certificate, on loopback
	}}
	for _, scheme := range []string{"http", "https"} {
		req, err := http.NewRequest(http.MethodGet, scheme+"://"+addr+"/metrics", nil)
		if err != nil {
			return nil, false
		}
		if scheme == "https" && bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := insecure.Do(req)
		if err != nil {
			continue
		}
		if resp.StatusCode != http.StatusOK {
			_ = resp.Body.Close()
			continue
		}
		samples = map[string]float64{}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if line == "" || line[0] == '#' {
				continue
			}
			// series value [timestamp]; label values may hold spaces.
			series, rest := line, ""
			if i := strings.LastIndexByte(line, '}'); i >= 0 {
				series, rest = line[:i+1], line[i+1:]
			} else if i := strings.IndexByte(line, ' '); i >= 0 {
				series, rest = line[:i], line[i:]
			}
			fields := strings.Fields(rest)
			if len(fields) == 0 {
				continue
			}
			if v, err := strconv.ParseFloat(fields[0], 64); err == nil {
				samples[series] = v
			}
		}
		_ = resp.Body.Close()
		if sc.Err() == nil {
			return samples, true
		}
	}
	return nil, false
}

// sumByLabel sums the series of one metric by one of its labels; nil when
// the operator exports no such series.
func sumByLabel(samples map[string]float64, metric, label string) map[string]float64 {
	var out map[string]float64
	for series, v := range samples {
		rest, ok := strings.CutPrefix(series, metric+"{")
		if !ok {
			continue
		}
		value := "?"
		if _, after, found := strings.Cut(rest, label+`="`); found {
			value, _, _ = strings.Cut(after, `"`)
		}
		if out == nil {
			out = map[string]float64{}
		}
		out[value] += v
	}
	return out
}

// connectionsByState sums directus_operator_connections (sockets) by its
// state label; nil when the operator exports no such series.
func connectionsByState(samples map[string]float64) map[string]float64 {
	return sumByLabel(samples, "directus_operator_connections", "state")
}
