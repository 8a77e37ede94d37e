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
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/directus-operator/directus-operator/realtime"
	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
)

// readFigure is one way of reading every seeded user's items.
type readFigure struct {
	way   string
	reads int
	took  time.Duration
	// cpu is what Directus spent meanwhile (its process tree); cpuOK is
	// false for the in-process fake.
	cpu   time.Duration
	cpuOK bool
}

// readsAtOnce is the operator's default --max-concurrent-reads-per-server.
const readsAtOnce = 4

// measureReads reads each seeded user's items once per way, as the
// operator's full reads do (paging by key, readsAtOnce at a time): over one
// realtime socket ("items" reads) and over REST (GETs). It shows what a
// restart's thousand full reads cost Directus each way, before any
// operator runs.
func (h *harness) measureReads(ctx context.Context) error {
	n := len(h.expected)
	auth := realtime.Auth{AccessToken: h.dx.Token()}
	c, err := realtime.New(realtime.Options{Server: realtime.Server{URL: h.dx.URL(), Auth: auth}})
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.Connect(cctx); err != nil {
		return fmt.Errorf("reads: connect: %w", err)
	}
	rest, err := realtime.NewREST(realtime.RESTOptions{Server: realtime.Server{URL: h.dx.URL(), Auth: auth}})
	if err != nil {
		return err
	}
	ways := []struct {
		name string
		read func(ctx context.Context, q json.RawMessage) ([]json.RawMessage, error)
	}{
		{"over the socket", func(ctx context.Context, q json.RawMessage) ([]json.RawMessage, error) {
			return c.ReadAll(ctx, "messages", q, realtime.ReadOptions{Key: "id"})
		}},
		{"over REST", func(ctx context.Context, q json.RawMessage) ([]json.RawMessage, error) {
			return rest.ReadAll(ctx, "messages", q, realtime.ReadOptions{Key: "id"})
		}},
	}
	for _, way := range ways {
		cpuBefore, cpuOK := h.directusCPU()
		start := time.Now()
		if err := readEach(ctx, n, way.read); err != nil {
			return fmt.Errorf("reads %s: %w", way.name, err)
		}
		f := readFigure{way: way.name, reads: n, took: time.Since(start)}
		if cpuAfter, ok := h.directusCPU(); ok && cpuOK {
			f.cpu, f.cpuOK = cpuAfter-cpuBefore, true
		}
		h.res.reads = append(h.res.reads, f)
		logf("reads: %d full reads %s (%d at a time) in %s", n, way.name, readsAtOnce, seconds(f.took))
	}
	return nil
}

// readEach reads user i's items for each i < n, readsAtOnce at a time, and
// checks each answer holds that user's items.
func readEach(ctx context.Context, n int, read func(ctx context.Context, q json.RawMessage) ([]json.RawMessage, error)) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range readsAtOnce {
		wg.Go(func() {
			for i := range next {
				q := json.RawMessage(fmt.Sprintf(`{"filter":{"user":{"_eq":"u%d"}}}`, i))
				rows, err := read(ctx, q)
				if err == nil && len(rows) != itemsPerUser {
					err = fmt.Errorf("user u%d: %d items, want %d", i, len(rows), itemsPerUser)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	return <-errs
}

// directusCPU is the CPU time of the real Directus's process tree.
func (h *harness) directusCPU() (time.Duration, bool) {
	if h.dx.PID() <= 0 {
		return 0, false
	}
	return benchkit.TreeCPU(h.dx.PID()), true
}
