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
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
)

// proc is one run of the directus-operator binary (operator or sidecar).
type proc struct{ *benchkit.Proc }

// startProc runs bin with args and env, its output in logPath (see
// benchkit.StartProc).
func startProc(name, bin string, args, env []string, logPath string) (*proc, error) {
	p, err := benchkit.StartProc(name, bin, args, env, logPath)
	if err != nil {
		return nil, err
	}
	return &proc{p}, nil
}

// exitError describes the process's exit, for a harness error.
func (p *proc) exitError() error {
	return fmt.Errorf("the %s exited (%w); see %s", p.Name, p.Err(), p.LogPath)
}

// waitOK polls url until it answers 200, the process exits or the
// deadline passes.
func (p *proc) waitOK(ctx context.Context, url string, timeout time.Duration) error {
	err := p.PollOK(ctx, url, timeout, 20*time.Millisecond)
	switch {
	case errors.Is(err, benchkit.ErrExited):
		return p.exitError()
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s did not answer 200 in %s: %w; see %s", url, timeout, errDeadline, p.LogPath)
	}
	return err
}

// scrapeMetrics reads a Prometheus text endpoint over plain http (the
// harness starts the operator with --metrics-secure=false) and returns every sample by its series
// (name{labels}); ok is false when it does not answer.
func scrapeMetrics(addr string) (samples map[string]float64, ok bool) {
	if addr == "" || addr == "0" {
		return nil, false
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + benchkit.Loopback(addr) + "/metrics")
	if err != nil {
		return nil, false
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, false
	}
	samples, err = benchkit.ParseMetrics(resp.Body)
	return samples, err == nil
}

// sumSeries adds the samples of metric name whose labels include every
// label="value" pair given.
func sumSeries(samples map[string]float64, name string, labels ...string) (float64, bool) {
	var sum float64
	found := false
	for series, v := range samples {
		rest, ok := strings.CutPrefix(series, name)
		if !ok || (rest != "" && rest[0] != '{') {
			continue
		}
		match := true
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				match = false
				break
			}
		}
		if match {
			sum += v
			found = true
		}
	}
	return sum, found
}
