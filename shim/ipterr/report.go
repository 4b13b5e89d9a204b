package ipterr

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Report writes err to stderr as iptables would and returns the exit
// status: nothing and 0 for nil; only the status when a real binary already
// printed the text (Printed); otherwise the message on one line, then the
// class's status (1 for errors that are not an *Error).
func Report(stderr io.Writer, err error) int {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) && e.Printed {
		return int(e.Class)
	}
	if msg := strings.TrimRight(err.Error(), "\n"); msg != "" {
		fmt.Fprintln(stderr, msg)
	}
	return int(ClassOf(err))
}
