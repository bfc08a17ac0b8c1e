"""The embedded simulated task suite: MuJoCo scenes, tasks and their variants, the simulator, its
dm_env / gymnasium adapters, scripted experts, the human proxy, and the bundled robot server.

Lowest first, with no import back up: `variants` (the table of tasks and variants, no MuJoCo) ·
`scene` · `tasks/` · `experts` · `env` (SimEnv) · `human_proxy`, `demonstrators`, `adapters`,
`registry` (`make`) · `robot`, `server` (the simulator behind the Franka server's HTTP protocol).
Real-robot parts are the other room: `robot_io.franka`, `robot_io.cameras`, `robot_io.teleop`.
"""
