// Package seriestest holds the tests of the SDK's gapless number
// allocator (package series) through a real host, with the plugin that
// takes the numbers in a process of its own, killed between a take and
// its use. They live in the test kit's module, not beside package series,
// so that the SDK's module does not require the test kit (and the core).
package seriestest
