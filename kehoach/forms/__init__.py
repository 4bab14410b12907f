"""The forms behind the links in the mail: a unit answers a stage, or sees what it must report."""
