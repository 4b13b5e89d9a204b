// Package ipterr is the one error type of the shim. Every backend returns it;
// Report turns it into the exit status and the text iptables would print.
//
// The classes are iptables' own exit statuses (xtables.h: OTHER_PROBLEM,
// PARAMETER_PROBLEM, VERSION_PROBLEM, RESOURCE_PROBLEM), because callers such
// as kube-proxy branch on them.
package ipterr

import (
	"errors"
	"fmt"
)

// Class is the exit status iptables uses for a kind of failure.
type Class int

const (
	// Other is exit 1: a rule or chain that does not exist, a chain that
	// already exists, a failed commit.
	Other Class = 1
	// Parameter is exit 2: bad arguments, unknown match or target.
	Parameter Class = 2
	// Version is exit 3: an extension's revision is not supported.
	Version Class = 3
	// Resource is exit 4: the xtables lock, memory, the kernel refused.
	Resource Class = 4
)

// Error is a failure with the class iptables would report and the text it
// would print. Line is the restore input line it concerns (0 when none).
// Printed means the text already reached the caller's stderr (an exec'd
// backend printed it itself), so only the exit status remains to be given.
type Error struct {
	Class   Class
	Msg     string
	Line    int
	Printed bool
	Err     error
}

func (e *Error) Error() string {
	if e.Msg == "" && e.Err != nil {
		return e.Err.Error()
	}
	return e.Msg
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of class c with a formatted message.
func New(c Class, format string, args ...any) *Error {
	return &Error{Class: c, Msg: fmt.Sprintf(format, args...)}
}

// AtLine returns an error of class c tied to a restore input line.
func AtLine(c Class, line int, format string, args ...any) *Error {
	return &Error{Class: c, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of class c whose message is msg and whose cause is err.
func Wrap(c Class, err error, msg string) *Error {
	return &Error{Class: c, Msg: msg, Err: err}
}

// Exit is the status of a child process that already printed its own
// diagnostics.
func Exit(code int) *Error {
	return &Error{Class: Class(code), Printed: true, Msg: fmt.Sprintf("exit status %d", code)}
}

// ClassOf returns the class of err: 0 for nil, Other for errors that are not
// an *Error.
func ClassOf(err error) Class {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Other
}

// Is reports whether err is an *Error of class c.
func Is(err error, c Class) bool {
	var e *Error
	return errors.As(err, &e) && e.Class == c
}
