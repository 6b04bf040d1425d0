-- Lua-side tests of the crypto module with known vectors.
local crypto = require("crypto")

function TestSHA256(t)
  t:eq(crypto.sha256(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
  t:eq(crypto.sha256("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
end

function TestHMAC(t)
  -- RFC 4231, test case 2
  t:eq(crypto.hmac_sha256("Jefe", "what do ya want for nothing?"),
    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
end

function TestUUID(t)
  local a, b = crypto.uuid(), crypto.uuid()
  local shape = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"
  t:ok(a:match(shape), "v4 shape: " .. a)
  t:ok(a ~= b, "uuids differ")
end

function TestRandomHex(t)
  local h = crypto.random_hex(16)
  t:eq(#h, 32)
  t:ok(h:match("^%x+$"), "hex only")
  t:ok(h ~= crypto.random_hex(16), "random")
  t:ok(not pcall(crypto.random_hex, 0), "n must be positive")
  t:ok(not pcall(crypto.random_hex, 4096), "n is capped")
end
