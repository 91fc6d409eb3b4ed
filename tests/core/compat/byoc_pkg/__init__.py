"""A LightningModule and a LightningDataModule written with no knowledge of Runway."""
