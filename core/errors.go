package core

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/actionflow/actionflow/core/record"
	"github.com/actionflow/actionflow/store"
)

// Error is an error with an HTTP status, rendered as {"errors":[{"message","code"}]}.
// Handlers and hooks return it (or wrap it); the renderer is the only place that writes it.
type Error struct {
	Status  int
	Code    string
	Message string
	// Field names the field or parameter at fault, when there is one.
	Field string
	// RetryAfter, when positive, is sent as the Retry-After header (seconds).
	RetryAfter int
	// Extra carries more error items rendered after this one (e.g. workflow messages).
	Extra []Message
	// Err is the cause, kept for logs and errors.Is; never rendered.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Message is one item of a response's "messages" (or of an error list).
type Message struct {
	Message string `json:"message"`
}

// Errors of the data API, by kind (the record layer's). Wrap them with the constructors below.
var (
	ErrNotFound = record.ErrNotFound
	ErrConflict = record.ErrConflict
)

// BadRequest is a 400 naming the field or parameter at fault.
func BadRequest(field, format string, a ...any) *Error {
	msg := fmt.Sprintf(format, a...)
	if field != "" {
		msg = field + ": " + msg
	}
	return &Error{Status: http.StatusBadRequest, Code: "INVALID_INPUT", Message: msg, Field: field}
}

// NotFound is a 404.
func NotFound(format string, a ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: fmt.Sprintf(format, a...), Err: ErrNotFound}
}

// Conflict is a 409 naming the field.
func Conflict(field, format string, a ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: "CONFLICT", Message: field + ": " + fmt.Sprintf(format, a...), Field: field, Err: ErrConflict}
}

// Unauthorized is a 401.
func Unauthorized(format string, a ...any) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "UNAUTHORIZED", Message: fmt.Sprintf(format, a...)}
}

// Forbidden is a 403.
func Forbidden(format string, a ...any) *Error {
	return &Error{Status: http.StatusForbidden, Code: "FORBIDDEN", Message: fmt.Sprintf(format, a...)}
}

// TooManyRequests is a 429 that tells the client to retry after d (whole seconds, at least 1).
func TooManyRequests(d time.Duration, format string, a ...any) *Error {
	secs := int((d + time.Second - 1) / time.Second)
	return &Error{Status: http.StatusTooManyRequests, Code: "TOO_MANY_REQUESTS", Message: fmt.Sprintf(format, a...), RetryAfter: max(secs, 1)}
}

// MethodNotAllowed is a 405.
func MethodNotAllowed(method, resource, action string) *Error {
	return &Error{Status: http.StatusMethodNotAllowed, Code: "METHOD_NOT_ALLOWED",
		Message: fmt.Sprintf("method %s is not allowed for %s:%s", method, resource, action)}
}

// Internal is a 500 with a generic message; the cause is logged, never sent.
func Internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: "INTERNAL", Message: "internal server error", Err: err}
}

// asError turns any error into an *Error: typed ones keep their status, the record layer's
// errors get theirs (FieldError 400, NotFoundError 404, UniqueError and ConflictError 409), a transaction
// over the store's size is the caller's to split (400), others are 500s.
func asError(err error) *Error {
	var (
		e  *Error
		fe *FieldError
		nf *NotFoundError
		ue *UniqueError
		ce *ConflictError
	)
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &fe):
		return BadRequest(fe.Field, "%s", fe.Msg)
	case errors.As(err, &nf):
		return NotFound("%s", nf.Error())
	case errors.As(err, &ue):
		return Conflict(ue.Field, "%s", ue.Msg())
	case errors.As(err, &ce):
		return Conflict(ce.Field, "%s", ce.Msg)
	}
	if errors.Is(err, store.ErrTooBig) {
		return &Error{Status: http.StatusBadRequest, Code: "TOO_MANY_CHANGES", Err: err,
			Message: "the action writes more than one transaction can hold: narrow it (its filter) or split it into smaller actions"}
	}
	return Internal(err)
}
