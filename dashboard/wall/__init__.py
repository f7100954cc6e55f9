"""The LED wall's machinery: its HTML and layout at every scale, the rotation of
views, the alarm chime and the shared 已知悉 book. ``pages/wall/wall.py`` holds
the views and puts these together."""
