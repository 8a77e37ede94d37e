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
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"

	"github.com/directus-operator/directus-operator/realtime"
)

// signalContext ends on SIGINT or SIGTERM: the commands then close the
// connection cleanly and exit 0.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func runTail(args []string) int {
	ctx, stop := signalContext()
	defer stop()
	return runTailTo(ctx, args, os.Getenv, os.Stdout, os.Stderr)
}

// tailLine is one line of tail's output: the subscription frame as Directus
// sent it ("data" verbatim, delete keys as strings or numbers), plus the
// connection number and when it was read. Errors and gaps use the same
// shape with "event":"error" or "gap".
type tailLine struct {
	Type     string          `json:"type"`
	Event    string          `json:"event"`
	Data     json.RawMessage `json:"data,omitempty"`
	Meta     json.RawMessage `json:"meta,omitempty"`
	Error    *tailError      `json:"error,omitempty"`
	UID      string          `json:"uid"`
	Epoch    uint64          `json:"epoch"`
	Received string          `json:"received"`
}

type tailError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func newTailLine(m realtime.Message) tailLine {
	l := tailLine{
		Type: "subscription", Event: string(m.Kind), Data: m.Data, Meta: m.Meta,
		UID: m.UID, Epoch: m.Epoch, Received: m.Received.UTC().Format(time.RFC3339Nano),
	}
	if m.Kind == realtime.KindError && m.Err != nil {
		l.Error = &tailError{Code: m.Err.Code, Message: m.Err.Message}
	}
	return l
}

// runTailTo is tail with its environment, output and lifetime passed in:
// it subscribes and prints one JSON object per message on stdout until ctx
// ends (exit 0). Lifecycle logs go to stderr. It exits 2 on bad flags and 1
// when the first connection fails (refused credentials, unreachable server)
// or the client gives up.
func runTailTo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		_, _ = fmt.Fprintf(stderr, "Usage: directus-operator tail --url URL --collection NAME [flags]\n\n"+
			"Prints every message of a subscription as one JSON object per line.\n"+
			"Credentials: %s, or %s and %s, or --token-file / --email-file and --password-file.\n\nFlags:\n", envToken, envEmail, envPassword)
		fs.PrintDefaults()
	}
	var cf connFlags
	cf.bind(fs, true)
	logLevel := fs.String("log-level", "info", "log level of stderr: debug, info, error, or a number")
	logFormat := fs.String("log-format", "text", "log format of stderr: json or text")
	if err := parseFlags(fs, args, getenv); err != nil {
		return exitCode(fs, err, stderr)
	}
	opts, err := cf.options(getenv, stderr)
	if err != nil {
		return exitCode(fs, err, stderr)
	}
	log, err := newLogger(*logLevel, *logFormat)
	if err != nil {
		return exitCode(fs, &usageError{err.Error()}, stderr)
	}
	opts.Logger = log.WithName("realtime")
	opts.OnEvent = logReconnects(log)

	c, err := realtime.New(opts)
	if err != nil {
		return exitCode(fs, &usageError{err.Error()}, stderr)
	}
	defer func() { _ = c.Close() }()
	sub, err := c.Subscribe(ctx, cf.subscribeOptions())
	if err != nil {
		return exitCode(fs, &usageError{err.Error()}, stderr)
	}
	if err := c.Connect(ctx); err != nil {
		if ctx.Err() != nil {
			return 0
		}
		return exitCode(fs, fmt.Errorf("connect: %w", err), stderr)
	}

	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false) // keep "<", ">" and "&" as Directus sent them
	for {
		select {
		case <-ctx.Done():
			return 0
		case m, ok := <-sub.C():
			if !ok {
				if ctx.Err() != nil {
					return 0
				}
				return exitCode(fs, fmt.Errorf("subscription ended: %w", c.Err()), stderr)
			}
			if err := enc.Encode(newTailLine(m)); err != nil {
				return exitCode(fs, fmt.Errorf("write: %w", err), stderr)
			}
		}
	}
}

// logReconnects logs the lifecycle events the realtime client does not log
// itself.
func logReconnects(log logr.Logger) func(realtime.Event) {
	return func(ev realtime.Event) {
		if ev.Kind == realtime.EventReconnecting {
			log.Info("Reconnecting to Directus", "attempt", ev.Attempt, "delay", ev.Delay.Round(time.Millisecond).String())
		}
	}
}
