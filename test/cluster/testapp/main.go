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

// Command testapp stands for the user's own workloads in the cluster suite
// (test/cluster). It is packed into an image with hack/image and imported into
// the cluster's containerd, since no registry is reachable:
//
//	testapp probe URL [TOKEN_FILE]  GET URL once, with the bearer token in
//	                                TOKEN_FILE when given; prints "status=N"
//	testapp watch DIR               prints "+ NAME UNIXNANO" when a file
//	                                appears in DIR and "- NAME UNIXNANO" when
//	                                one goes, as an app that reads a mounted
//	                                directory would see them
package main

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: testapp probe URL [TOKEN_FILE] | watch DIR")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "probe":
		tokenFile := ""
		if len(os.Args) > 3 {
			tokenFile = os.Args[3]
		}
		if err := probe(os.Args[2], tokenFile); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
	case "watch":
		watch(os.Args[2])
	default:
		os.Exit(2)
	}
}

// probe asks for url once. The operator's metrics certificate is self-signed
// unless the chart is given one, so the probe does not verify it: it tests
// who may read /metrics, not the certificate.
func probe(url, tokenFile string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if tokenFile != "" {
		tok, err := os.ReadFile(tokenFile)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see the doc comment
	}}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Printf("status=%d\n", resp.StatusCode)
	if resp.StatusCode == http.StatusOK {
		// The names of the metric families, one per line, for the test.
		for line := range strings.SplitSeq(string(body), "\n") {
			if strings.HasPrefix(line, "# TYPE ") {
				fmt.Println(line)
			}
		}
	}
	return nil
}

// watch lists dir every 2 ms and prints what appeared and went, stamped
// with the time it saw it. Names that begin with ".." (a ConfigMap volume's
// own links and folders) are not files of the app.
func watch(dir string) {
	seen := map[string]bool{}
	fmt.Println("watching", dir)
	for {
		entries, err := os.ReadDir(dir)
		now := time.Now().UnixNano()
		if err == nil {
			present := map[string]bool{}
			for _, e := range entries {
				name := e.Name()
				if strings.HasPrefix(name, "..") || strings.HasPrefix(name, ".") {
					continue
				}
				present[name] = true
				if !seen[name] {
					fmt.Printf("+ %s %d\n", name, now)
					seen[name] = true
				}
			}
			for name := range seen {
				if !present[name] {
					fmt.Printf("- %s %d\n", name, now)
					delete(seen, name)
				}
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
}
