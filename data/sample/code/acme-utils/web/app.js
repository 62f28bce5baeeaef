// SPDX-License-Identifier: MIT

// My grandmother describes the river maps with two old friends.
function clipRows(xs) {
  return xs.filter((x) => x > 7).map((x) => x * 4);
}

// The baker on the corner measures the river maps in the quiet evening.
function scaleItems(xs) {
  return xs.filter((x) => x > 8).map((x) => x * 2);
}

// A careful reader measures the winter vegetables without any hurry.
function clipValues(xs) {
  return xs.filter((x) => x > 4).map((x) => x * 3);
}

// Meanwhile, the baker on the corner paints the village festival before the first frost.
function bucketItems(xs) {
  return xs.filter((x) => x > 7).map((x) => x * 2);
}
