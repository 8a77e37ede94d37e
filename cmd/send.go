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
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/directus-operator/directus-operator/realtime"
)

// sendFlags are send's own flags.
type sendFlags struct {
	Action    string
	Data      string
	ID        string
	IDs       string
	Timeout   time.Duration
	LogLevel  string
	LogFormat string
}

func newSendCommand(c *cli) *cobra.Command {
	var (
		cf connFlags
		sf sendFlags
	)
	cmd := &cobra.Command{
		Use:   "send --url URL --collection NAME --action create|read|update|delete [flags]",
		Short: "Perform an items action (create, read, update, delete) and print the reply",
		Long: "Performs one items action over the realtime socket and prints the reply's data as one line of JSON.\n" +
			"Credentials: " + credentialsHelp + ".\nEvery flag can be given as its DIRECTUS_<NAME> environment variable.",
		Example: `  directus-operator send --collection messages --action create --data '{"text":"Hello World!","user":"Ben"}'`,
		GroupID: groupDirectus,
		Args:    noArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return sendItems(cmd.Context(), c, &cf, &sf) },
	}
	fs := cmd.Flags()
	cf.bind(fs, false)
	fs.StringVar(&sf.Action, "action", "", "create, read, update or delete (required)")
	fs.StringVar(&sf.Data, "data", "", "item(s) to create, or the changes of an update, as JSON")
	fs.StringVar(&sf.ID, "id", "", "key of the item to read, update or delete")
	fs.StringVar(&sf.IDs, "ids", "", `keys of the items, as a JSON array or comma-separated: '[1,2]' or 1,2`)
	fs.DurationVar(&sf.Timeout, "timeout", 30*time.Second, "how long to wait for the connection and the reply")
	fs.StringVar(&sf.LogLevel, "log-level", "error", "log level of stderr: debug, info, error, or a number")
	fs.StringVar(&sf.LogFormat, "log-format", "text", "log format of stderr: json or text")
	environmentFlags(cmd, c)
	return cmd
}

// runSendTo is send with its environment, output and lifetime passed in.
func runSendTo(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return execute(ctx, "directus-operator", append([]string{"send"}, args...), &cli{getenv: getenv, stdout: stdout, stderr: stderr})
}

// request builds the items request the flags describe.
func (sf *sendFlags) request(collection string, query json.RawMessage) (realtime.ItemsRequest, error) {
	r := realtime.ItemsRequest{Collection: collection, Action: sf.Action, Query: query}
	switch sf.Action {
	case string(realtime.KindCreate), "read", string(realtime.KindUpdate), string(realtime.KindDelete):
	default:
		return r, usagef("--action %q: want create, read, update or delete", sf.Action)
	}
	if sf.Data != "" {
		d := bytes.TrimSpace([]byte(sf.Data))
		if len(d) == 0 || (d[0] != '{' && d[0] != '[') || !json.Valid(d) {
			return r, usagef(`--data must be a JSON object or array, e.g. '{"text":"Hello World!"}'`)
		}
		r.Data = json.RawMessage(d)
	}
	if sf.ID != "" && sf.IDs != "" {
		return r, usagef("--id and --ids are exclusive")
	}
	if sf.ID != "" {
		r.ID = keyValue(sf.ID)
	}
	if sf.IDs != "" {
		ids, err := keyList(sf.IDs)
		if err != nil {
			return r, err
		}
		r.IDs = ids
	}
	switch {
	case (sf.Action == string(realtime.KindCreate) || sf.Action == string(realtime.KindUpdate)) && r.Data == nil:
		return r, usagef("--action %s needs --data", sf.Action)
	case sf.Action == string(realtime.KindUpdate) && r.ID == nil && r.IDs == nil && query == nil:
		return r, usagef("--action update needs --id, --ids or --query")
	case sf.Action == "delete" && r.ID == nil && r.IDs == nil && query == nil:
		return r, usagef("--action delete needs --id, --ids or --query")
	case sf.Action != "create" && sf.Action != "update" && r.Data != nil:
		return r, usagef("--data is only for create and update")
	}
	return r, nil
}

// keyValue reads a key as Directus would get it from JSON: 15 is a number,
// "15" (quoted) and abc are strings.
func keyValue(s string) any {
	s = strings.TrimSpace(s)
	var v any
	if json.Unmarshal([]byte(s), &v) == nil {
		switch v.(type) {
		case float64, string:
			return json.RawMessage(s)
		}
	}
	return s
}

// keyList reads --ids: a JSON array, or keys separated by commas.
func keyList(s string) ([]any, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		var raw []json.RawMessage
		if err := json.Unmarshal([]byte(s), &raw); err != nil {
			return nil, usagef("--ids: not a JSON array: %v", err)
		}
		ids := make([]any, len(raw))
		for i, r := range raw {
			ids[i] = r
		}
		return ids, nil
	}
	var ids []any
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			ids = append(ids, keyValue(p))
		}
	}
	return ids, nil
}

// sendItems connects, performs one items action and prints the reply's data as
// one line of JSON on stdout. It fails when Directus refuses or does not
// answer within --timeout.
func sendItems(ctx context.Context, c *cli, cf *connFlags, sf *sendFlags) error {
	opts, err := cf.options(c.getenv, c.stderr)
	if err != nil {
		return err
	}
	q, _ := cf.query()
	req, err := sf.request(cf.Collection, q)
	if err != nil {
		return err
	}
	log, err := newLogger(sf.LogLevel, sf.LogFormat)
	if err != nil {
		return usagef("%v", err)
	}
	opts.Logger = log.WithName("realtime")
	opts.Reconnect.Disabled = true // one request: a lost connection is an error

	ctx, cancel := context.WithTimeout(ctx, sf.Timeout)
	defer cancel()
	rc, err := realtime.New(opts)
	if err != nil {
		return usagef("%v", err)
	}
	defer func() { _ = rc.Close() }()
	if err := rc.Connect(ctx); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	data, err := rc.Items(ctx, req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", sf.Action, cf.Collection, err)
	}
	var line bytes.Buffer
	if len(bytes.TrimSpace(data)) == 0 {
		data = json.RawMessage("null")
	}
	if err := json.Compact(&line, data); err != nil {
		line.Reset()
		line.Write(data)
	}
	line.WriteByte('\n')
	if _, err := c.stdout.Write(line.Bytes()); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
