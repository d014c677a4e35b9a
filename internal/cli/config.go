package cli

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// ConfigPath finds the --config file named in args (either -config or
// --config, "=value" or the next argument), else in $ENGINE_CONFIG.
func ConfigPath(args []string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "config" {
			continue
		}
		if hasVal {
			return val
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return os.Getenv("ENGINE_CONFIG")
}

// LoadConfigFile sets fs's flags from a YAML file: a mapping of flag names
// (dashes or underscores) to scalars, or to lists, which are joined with
// commas (join: [a, b]). Call it before the environment and the command
// line are applied, so both override the file. An unknown key, or a value
// the flag rejects, is an error naming the file and the key.
func LoadConfigFile(fs *flag.FlagSet, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	for k, v := range m {
		name := strings.ReplaceAll(k, "_", "-")
		f := fs.Lookup(name)
		if f == nil || name == "config" {
			return fmt.Errorf("config %s: unknown setting %q", path, k)
		}
		var s string
		switch v := v.(type) {
		case []any:
			parts := make([]string, len(v))
			for i, p := range v {
				parts[i] = fmt.Sprint(p)
			}
			s = strings.Join(parts, ",")
		case map[string]any:
			return fmt.Errorf("config %s: %q: want a value or a list", path, k)
		case nil:
			continue
		default:
			s = fmt.Sprint(v)
		}
		if err := f.Value.Set(s); err != nil {
			return fmt.Errorf("config %s: %s: %w", path, k, err)
		}
	}
	return nil
}
