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
	"fmt"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/directus-operator/directus-operator/test/testutil"
)

// TestTheFlagsReferenceIsUpToDate fails when docs/flags.md no longer shows
// the flags the commands define: name, type, default and description.
// UPDATE_DOCS=1 rewrites the tables:
//
//	UPDATE_DOCS=1 go test ./cmd -run TestTheFlagsReferenceIsUpToDate
func TestTheFlagsReferenceIsUpToDate(t *testing.T) {
	root := newRootCommand("directus-operator", &cli{})
	sections := map[string]string{}
	for _, name := range []string{"operator", "sidecar", "tail", "send"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil || cmd.Name() != name {
			t.Fatalf("no command %s: %v", name, err)
		}
		sections[name] = flagTable(cmd.Flags(), name != "operator")
	}
	testutil.KeepDocCurrent(t, "../docs/flags.md", sections, "go test ./cmd -run TestTheFlagsReferenceIsUpToDate")
}

// flagTable is a Markdown table of fs; withEnv adds each flag's
// environment variable, which environmentFlags put at the end of its help.
func flagTable(fs *pflag.FlagSet, withEnv bool) string {
	var b strings.Builder
	if withEnv {
		b.WriteString("| flag | type | default | environment | description |\n|---|---|---|---|---|\n")
	} else {
		b.WriteString("| flag | type | default | description |\n|---|---|---|---|\n")
	}
	cell := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace
	fs.VisitAll(func(f *pflag.Flag) {
		usage, def := f.Usage, "`"+f.DefValue+"`"
		if f.DefValue == "" {
			def = ""
		}
		name := "`--" + f.Name + "`"
		if f.Shorthand != "" {
			name = "`-" + f.Shorthand + "`, " + name
		}
		if withEnv {
			env := "$" + envName(f.Name)
			usage = strings.TrimSuffix(usage, " ["+env+"]")
			fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s |\n", name, f.Value.Type(), def, env[1:], cell(usage))
			return
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", name, f.Value.Type(), def, cell(usage))
	})
	return b.String()
}
