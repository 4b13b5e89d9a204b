package ipterr

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

func TestReport(t *testing.T) {
	for _, c := range []struct {
		err  error
		text string
		code int
	}{
		{nil, "", 0},
		{New(Parameter, "Bad argument `x'\n"), "Bad argument `x'\n", 2},
		{fmt.Errorf("wrapped: %w", New(Resource, "Another app is currently holding the xtables lock.")), "wrapped: Another app is currently holding the xtables lock.\n", 4},
		{Exit(3), "", 3},
		{errors.New("plain"), "plain\n", 1},
	} {
		var b bytes.Buffer
		if code := Report(&b, c.err); code != c.code || b.String() != c.text {
			t.Errorf("%v: exit %d, %q; want %d, %q", c.err, code, b.String(), c.code, c.text)
		}
	}
}
