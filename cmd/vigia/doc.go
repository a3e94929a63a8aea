// Command vigia runs the Vigia service and its tools: serve, replay,
// export, config check and version. It translates flags and the config
// file into the options of package app; it holds no logic of its own.
package main
