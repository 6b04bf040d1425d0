package core

// PasswordChecks is how many password comparisons (bcrypt) the app has made.
func (a *App) PasswordChecks() uint64 { return a.passwordChecks.Load() }
