// Package storage holds the file formats of the stack; its subpackages do no networking.
package storage
