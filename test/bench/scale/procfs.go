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
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/directus-operator/directus-operator/test/bench/internal/benchkit"
)

// rssBytes is VmRSS of one process, from /proc/<pid>/status.
func rssBytes(pid int) (int64, error) { return statusBytes(pid, "VmRSS") }

// statusBytes is a field of /proc/<pid>/status given in kB (VmRSS, RssAnon,
// RssFile), in bytes.
func statusBytes(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, field+":") {
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(line, field+":"))
		if len(fields) < 1 {
			break
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0, err
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// treeRSSBytes sums VmRSS over pid and all its descendants (Directus is a
// node process that may start helpers).
func treeRSSBytes(pid int) (int64, error) {
	tree, err := benchkit.Tree(pid)
	if err != nil {
		return 0, err
	}
	total, err := rssBytes(pid)
	if err != nil {
		return 0, err
	}
	for _, p := range tree[1:] {
		if r, err := rssBytes(p); err == nil {
			total += r
		}
	}
	return total, nil
}

// establishedTo counts the ESTABLISHED TCP sockets that process pid holds
// (through its file descriptors) whose remote port is port. It reads
// /proc/<pid>/fd for socket inodes and /proc/<pid>/net/tcp{,6} for their
// state and peer, so it needs no tool and sees every socket, pooled HTTP
// connections included.
func establishedTo(pid, port int) (int, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return 0, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err != nil {
			continue
		}
		if strings.HasPrefix(target, "socket:[") && strings.HasSuffix(target, "]") {
			inodes[target[len("socket:["):len(target)-1]] = true
		}
	}
	count := 0
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			if table == "tcp6" {
				continue
			}
			return 0, err
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "01" || !inodes[fields[9]] {
				continue
			}
			remote := fields[2]
			i := strings.LastIndexByte(remote, ':')
			if i < 0 {
				continue
			}
			p, err := strconv.ParseUint(remote[i+1:], 16, 16)
			if err == nil && int(p) == port {
				count++
			}
		}
		_ = f.Close()
	}
	return count, nil
}
