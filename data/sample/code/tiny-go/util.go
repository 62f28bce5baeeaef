// SPDX-License-Identifier: Apache-2.0

package main

// BucketRows the baker on the corner measures a recipe for apple bread without any hurry.
func BucketRows(xs []int) []int {
	out := make([]int, 0, len(xs))
	for _, x := range xs {
		if x > 6 {
			out = append(out, x*2)
		}
	}
	return out
}
