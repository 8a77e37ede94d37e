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
	"crypto/sha256"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// readSecretFile reads a credential from a file, without its trailing
// newline.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// watchTokenFile re-reads the token file every interval until ctx ends and
// hands a changed, non-empty token to use. kubelet updates a mounted Secret
// in place by swapping a ..data symlink, so neither the file's inode nor an
// inotify watch on it is a reliable signal: its content is. Only a hash of
// the content is kept between reads, and nothing of it is logged.
func watchTokenFile(ctx context.Context, log logr.Logger, path string, interval time.Duration, current string, use func(string) error) {
	last := sha256.Sum256([]byte(current))
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		tok, err := readSecretFile(path)
		if err != nil {
			log.Info("Could not read the token file; keeping the current token", "file", path, "error", err.Error())
			continue
		}
		sum := sha256.Sum256([]byte(tok))
		if sum == last {
			continue
		}
		if tok == "" {
			log.Info("The token file is empty; keeping the current token", "file", path)
			continue
		}
		if err := use(tok); err != nil {
			log.Error(err, "Could not use the new token", "file", path)
			continue
		}
		last = sum
		log.Info("The token file changed; re-authenticating with the new token", "file", path)
	}
}
