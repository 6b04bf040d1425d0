// Package crypto provides the Lua module "crypto": hashes, HMAC and random
// identifiers (crypto/rand).
//
// Lua functions:
//
//	crypto.sha256(s)            -> lowercase hex digest
//	crypto.hmac_sha256(key, s)  -> lowercase hex digest
//	crypto.uuid()               -> random (version 4) UUID, e.g. "0b8f…-4…"
//	crypto.random_hex(n)        -> 2n hex characters from n random bytes (1 ≤ n ≤ 1024)
//
// Example:
//
//	local crypto = require("crypto")
//	local sig = crypto.hmac_sha256(secret, body)
//	return {id = crypto.uuid(), sig = sig}
package crypto

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"

	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/runtime"
)

// MaxRandomBytes bounds random_hex(n).
const MaxRandomBytes = 1024

// Module returns the "crypto" module.
func Module() runtime.Module {
	return runtime.Module{
		Name: "crypto",
		Doc:  "crypto.sha256(s), crypto.hmac_sha256(key, s), crypto.uuid(), crypto.random_hex(n)",
		Open: func(L *lua.LState, _ *runtime.Run) lua.LValue {
			t := L.CreateTable(0, 4)
			t.RawSetString("sha256", L.NewFunction(sha))
			t.RawSetString("hmac_sha256", L.NewFunction(hmacSHA256))
			t.RawSetString("uuid", L.NewFunction(uuid))
			t.RawSetString("random_hex", L.NewFunction(randomHex))
			return t
		},
	}
}

func sha(L *lua.LState) int {
	sum := sha256.Sum256([]byte(L.CheckString(1)))
	L.Push(lua.LString(hex.EncodeToString(sum[:])))
	return 1
}

func hmacSHA256(L *lua.LState) int {
	m := hmac.New(sha256.New, []byte(L.CheckString(1)))
	m.Write([]byte(L.CheckString(2)))
	L.Push(lua.LString(hex.EncodeToString(m.Sum(nil))))
	return 1
}

// UUID returns a random version 4 UUID.
func UUID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand contract since Go 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

func uuid(L *lua.LState) int {
	L.Push(lua.LString(UUID()))
	return 1
}

func randomHex(L *lua.LState) int {
	n := L.CheckInt(1)
	if n < 1 || n > MaxRandomBytes {
		L.ArgError(1, "n must be between 1 and 1024")
	}
	b := make([]byte, n)
	rand.Read(b)
	L.Push(lua.LString(hex.EncodeToString(b)))
	return 1
}
