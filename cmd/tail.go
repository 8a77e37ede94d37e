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
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"

	"github.com/directus-operator/directus-operator/realtime"
)

// signalContext ends on SIGINT or SIGTERM: the commands then close the
// connection cleanly and exit 0.
func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func newTailCommand(c *cli) *cobra.Command {
	var (
		cf                  connFlags
		logLevel, logFormat string
	)
	cmd := &cobra.Command{
		Use:   "tail --url URL --collection NAME [flags]",
		Short: "Print a subscription's messages as JSON lines",
		Long: "Prints every message of a subscription as one JSON object per line, until interrupted.\n" +
			"Credentials: " + credentialsHelp + ".\nEvery flag can be given as its DIRECTUS_<NAME> environment variable.",
		Example: `  DIRECTUS_TOKEN=... directus-operator tail --url https://directus.example.com --collection messages --event create`,
		GroupID: groupDirectus,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return tail(cmd.Context(), c, &cf, logLevel, logFormat)
		},
	}
	fs := cmd.Flags()
	cf.bind(fs, true)
	cf.bindLongLived(fs)
	fs.StringVar(&logLevel, "log-level", "info", "log level of stderr: debug, info, error, or a number")
	fs.StringVar(&logFormat, "log-format", "text", "log format of stderr: json or text")
	environmentFlags(cmd, c)
	return cmd
}

// credentialsHelp says where the connection commands take credentials from.
const credentialsHelp = envToken + ", or " + envEmail + " and " + envPassword + ", or --token-file / --email-file and --password-file"

// runTailTo is tail with its environment, output and lifetime passed in.
func runTailTo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return execute(ctx, "directus-operator", append([]string{"tail"}, args...), &cli{getenv: getenv, stdout: stdout, stderr: stderr})
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

// tail subscribes and prints one JSON object per message on stdout until
// ctx ends (exit 0). Lifecycle logs go to stderr. It fails when the first
// connection fails (refused credentials, unreachable server) or the client
// gives up.
func tail(ctx context.Context, c *cli, cf *connFlags, logLevel, logFormat string) error {
	opts, err := cf.options(c.getenv, c.stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(logLevel, logFormat)
	if err != nil {
		return usagef("%v", err)
	}
	opts.Logger = log.WithName("realtime")
	opts.OnEvent = logReconnects(log)

	rc, err := realtime.New(opts)
	if err != nil {
		return usagef("%v", err)
	}
	defer func() { _ = rc.Close() }()
	sub, err := rc.Subscribe(ctx, cf.subscribeOptions())
	if err != nil {
		return usagef("%v", err)
	}
	if err := rc.Connect(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("connect: %w", err)
	}

	enc := json.NewEncoder(c.stdout)
	enc.SetEscapeHTML(false) // keep "<", ">" and "&" as Directus sent them
	for {
		select {
		case <-ctx.Done():
			return nil
		case m, ok := <-sub.C():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("subscription ended: %w", rc.Err())
			}
			if err := enc.Encode(newTailLine(m)); err != nil {
				return fmt.Errorf("write: %w", err)
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
