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
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
)

// flagValue returns the last value of a flag (-name v, --name v, -name=v,
// --name=v) in args, "" when it is not there.
func flagValue(args []string, name string) string {
	v, _ := benchkit.FlagValue(args, name)
	return v
}

// operatorProc is one run of the operator binary.
type operatorProc struct{ *benchkit.Proc }

// startOperator runs `bin operator args...` with KUBECONFIG, its output in
// logPath (see benchkit.StartProc).
func startOperator(bin, kubeconfig string, args []string, logPath string) (*operatorProc, error) {
	p, err := benchkit.StartProc("operator", bin, append([]string{"operator"}, args...), []string{"KUBECONFIG=" + kubeconfig}, logPath)
	if err != nil {
		return nil, err
	}
	return &operatorProc{p}, nil
}

// waitHealthy polls /healthz until it answers 200, the process exits or
// the deadline passes.
func (p *operatorProc) waitHealthy(ctx context.Context, probeAddr string, timeout time.Duration) error {
	err := p.PollOK(ctx, "http://"+probeAddr+"/healthz", timeout, 100*time.Millisecond)
	switch {
	case errors.Is(err, benchkit.ErrExited):
		return fmt.Errorf("the operator exited during start (%w); see %s", p.Err(), p.LogPath)
	case err != nil:
		return fmt.Errorf("the operator's /healthz on %s did not answer in %s; see %s", probeAddr, timeout, p.LogPath)
	}
	return nil
}

// scrapeMetrics reads the operator's metrics endpoint: plain http first,
// then https (controller-runtime's secure serving, self-signed) with a
// bearer token when there is one. It returns every sample by its series
// (name{labels}); ok is false when neither scheme answers.
func scrapeMetrics(addr, bearer string) (samples map[string]float64, ok bool) {
	if addr == "" || addr == "0" {
		return nil, false
	}
	addr = benchkit.Loopback(addr)
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
		samples, err = benchkit.ParseMetrics(resp.Body)
		_ = resp.Body.Close()
		if err == nil {
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
