// Package orders is a runnable example: a shop whose two workflows are kept as Lua files in
// workflows/ and applied with "actionflow workflows apply". See README.md for the
// walkthrough; orders_test.go runs it.
package orders
