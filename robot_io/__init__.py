"""robot_io: environments and demonstrators the collectors record from.

The embedded simulated task suite (MuJoCo / Meta-World: connector insertion, pick-and-place,
multi-stage assembly) with seen/unseen variants, dm_env and gymnasium interfaces, scripted experts,
a human-proxy demonstrator, and teleoperation device interfaces for real robots.
"""
