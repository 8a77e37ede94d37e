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

// Command failover is make bench-failover: on the real node of make cluster,
// it runs the cluster suite's failover, upgrade and shard tests BENCH_RUNS
// times (3 by default) in one go test process, with a stream of 10 changes a
// second into the mirrors, and prints how long the mirrors stopped following
// Directus in each scenario. Each test asserts 0 lost, phantom and stale once
// the mirror follows again; a failing test fails the benchmark.
package main

import (
	"bufio"
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
	"github.com/directus-operator/directus-operator/test/envtestutil"
)

// tests are the cluster suite's tests that record figures.
var tests = []string{
	"TestALeaderLostGracefullyOrByACrashLosesNothing",
	"TestHelmUpgradeAndReinstallLoseNothing",
	"TestShardsFailApartAndASubscriptionMovesBetweenThem",
}

// leaseGoal is the goal of a loss that may have to wait out the Lease.
const leaseGoal = "≤ 18 s (lease 15 s + 3 s)"

// goals of the failover issue, by phase; the default lease is 15 s.
var goals = map[string]string{
	"leader pod deleted (graceful)":                    "≤ 3 s",
	"leader process killed (crash)":                    leaseGoal,
	"leader process frozen (hung, as a lost node)":     leaseGoal,
	"shard process killed (its mirrors)":               leaseGoal,
	"shard process killed (the other shard's mirrors)": "unaffected",
}

func main() {
	ctx, stop := benchkit.SignalContext()
	defer stop()
	root := envtestutil.RepoRoot()
	runs, err := strconv.Atoi(cmp.Or(os.Getenv("BENCH_RUNS"), "3"))
	if err != nil || runs < 1 {
		fmt.Fprintln(os.Stderr, "bench: BENCH_RUNS must be a positive number")
		os.Exit(2)
	}
	figures := filepath.Join(os.TempDir(), fmt.Sprintf("directus-operator-failover-%d.tsv", os.Getpid()))
	defer func() { _ = os.Remove(figures) }()
	_ = os.Remove(figures)

	benchkit.Logf("running %d time(s): %s", runs, strings.Join(tests, ", "))
	cmd := exec.CommandContext(ctx, "go", "test", "-tags", "cluster", "-count", strconv.Itoa(runs), "-timeout", "90m", "-v",
		"-run", "^("+strings.Join(tests, "|")+")$", "./test/cluster/")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CLUSTER_FIGURES="+figures)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	runErr := cmd.Run()

	byPhase, order, err := read(figures)
	if err != nil && runErr == nil {
		runErr = err
	}
	render := func() string { return table(byPhase, order, runs, benchkit.GitCommit(root)) }
	os.Exit(benchkit.Finish(ctx, len(order) > 0, render, filepath.Join(root, "bin", "bench-failover.md"), runErr))
}

// read parses the "phase<TAB>seconds" lines the tests append.
func read(path string) (map[string][]time.Duration, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("no figures recorded: %w", err)
	}
	defer func() { _ = f.Close() }()
	byPhase := map[string][]time.Duration{}
	var order []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		phase, secs, ok := strings.Cut(sc.Text(), "\t")
		s, err := strconv.ParseFloat(secs, 64)
		if !ok || err != nil {
			return nil, nil, fmt.Errorf("figures: bad line %q", sc.Text())
		}
		if _, seen := byPhase[phase]; !seen {
			order = append(order, phase)
		}
		byPhase[phase] = append(byPhase[phase], time.Duration(s*float64(time.Second)))
	}
	return byPhase, order, sc.Err()
}

func table(byPhase map[string][]time.Duration, order []string, runs int, commit string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### directus-operator failover benchmark, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "Commit %s, %d CPUs, the single-node cluster of make cluster, a real Directus; %d run(s) of each test, "+
		"10 changes a second. The gap: the longest time the mirror's ConfigMap went without a write, from the loss until "+
		"it follows again. Every run ended with 0 lost, phantom and stale.\n\n", commit, runtime.NumCPU(), runs)
	b.WriteString("| scenario | runs | median | min | max | goal |\n|---|---|---|---|---|---|\n")
	for _, phase := range order {
		d := slices.Clone(byPhase[phase])
		slices.Sort(d)
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", phase, len(d), secs(d[len(d)/2]), secs(d[0]), secs(d[len(d)-1]), goals[phase])
	}
	return b.String()
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
