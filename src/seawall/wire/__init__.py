"""Wire formats: translations between client/upstream formats and Seawall's internal one."""
