package cmd

// The tests run the commands on wsgo's built-in apps, which wsgo's main
// package registers; package cmd itself imports none, so that a user's own
// main can call it with only the user's apps registered.
import _ "github.com/wsgo/wsgo/apps"
