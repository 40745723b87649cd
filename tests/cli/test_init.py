"""voisinage init: creating the database and applying town files."""

import harness


class InitTest(harness.VoisinageTest):
    def test_second_apply_changes_nothing(self):
        self.init_thomery()
        before = self.snapshot()
        result = self.init_thomery()
        self.assertIn("no change", result.out)
        self.assertUnchanged(before)


if __name__ == "__main__":
    harness.main()
