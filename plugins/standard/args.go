package standard

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// envDefaults reads the environment variables that give flags their defaults. A value
// that does not parse leaves the default and is kept as an error naming the variable;
// check reports it unless the flag was given, which wins over the variable.
type envDefaults struct {
	errs []envError
}

type envError struct {
	flag string
	err  error
}

// lookup returns the variable's value; an empty one counts as unset.
func (e *envDefaults) lookup(name string) (string, bool) {
	v, ok := os.LookupEnv(name)
	return v, ok && v != ""
}

func (e *envDefaults) fail(flagName, name, v, want string) {
	e.errs = append(e.errs, envError{flagName, fmt.Errorf("%s: %q is not %s", name, v, want)})
}

// Int is the variable as a whole number (for flag flagName), else def.
func (e *envDefaults) Int(flagName, name string, def int) int {
	v, ok := e.lookup(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		e.fail(flagName, name, v, "a whole number")
		return def
	}
	return n
}

// Duration is the variable as a Go duration ("5s", "1m30s"), else def.
func (e *envDefaults) Duration(flagName, name string, def time.Duration) time.Duration {
	v, ok := e.lookup(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		want := "a duration such as 5s, 500ms or 1m"
		if _, nerr := strconv.ParseFloat(strings.TrimSpace(v), 64); nerr == nil {
			want = fmt.Sprintf("a duration: give it a unit, e.g. %ss", strings.TrimSpace(v))
		}
		e.fail(flagName, name, v, want)
		return def
	}
	return d
}

// Bool is the variable as a boolean (true, false, 1, 0, t, f), else def.
func (e *envDefaults) Bool(flagName, name string, def bool) bool {
	v, ok := e.lookup(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		e.fail(flagName, name, v, "a boolean (true or false)")
		return def
	}
	return b
}

// check returns the first error of a variable whose flag was not given on the command
// line (fs parsed).
func (e *envDefaults) check(fs *flag.FlagSet) error {
	for _, ee := range e.errs {
		if !flagGiven(fs, ee.flag) {
			return ee.err
		}
	}
	return nil
}

// flagGiven reports whether the flag was on the command line (fs parsed).
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// unexpectedArg is the usage error for args[i], a positional argument that cmd does not
// take. Go's flag parsing stops at the first such word, so the flags after it would be
// silently dropped; the usual cause is a value given to a boolean flag ("--durable true").
// takes says what the command takes instead ("takes flags only").
func unexpectedArg(cmd, takes string, fs *flag.FlagSet, args []string, i int) string {
	if name, ok := boolFlagBefore(fs, args, i); ok {
		return fmt.Sprintf("%s: unexpected argument %q (boolean flags take their value as --%s=%s)", cmd, args[i], name, args[i])
	}
	return fmt.Sprintf("%s: unexpected argument %q (%s; see --help)", cmd, args[i], takes)
}

// boolFlagBefore reports the boolean flag written without a value just before args[i].
func boolFlagBefore(fs *flag.FlagSet, args []string, i int) (string, bool) {
	if i < 1 || i > len(args) {
		return "", false
	}
	prev := args[i-1]
	if !strings.HasPrefix(prev, "-") || strings.Contains(prev, "=") {
		return "", false
	}
	name := strings.TrimLeft(prev, "-")
	f := fs.Lookup(name)
	if f == nil {
		return "", false
	}
	bf, ok := f.Value.(interface{ IsBoolFlag() bool })
	return name, ok && bf.IsBoolFlag()
}

// looksBool reports whether a word is a boolean's value written apart from its flag
// ("--dry-run true"), for commands whose positional arguments are paths.
func looksBool(word string) bool {
	w := strings.ToLower(word)
	return w == "true" || w == "false"
}
